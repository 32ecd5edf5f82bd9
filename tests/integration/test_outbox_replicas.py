"""Two replicas of a service, two outbox relays on one database: every event is published
once, in order, by whichever relay holds the database's leadership; when that one stops, the
other takes over with nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest
from sqlmodel import SQLModel

from shared.db import Database, ensure_postgres_database
from shared.events.envelope import Envelope
from shared.kafka import Publisher
from shared.metrics import sample
from shared.outbox import (
    OutboxEvent,
    OutboxRelay,
    ProcessedEvent,
    add_many_to_outbox,
    pending_count,
)
from tests.conftest import Stack
from tests.integration.conftest import read_messages

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _events(batch: int, count: int) -> list[Envelope]:
    return [
        Envelope(
            type="test.outbox", source="test", subject=f"enc-{n % 7}", tenant="t", dataschema="x",
            data={"batch": batch, "n": n},
        )
        for n in range(count)
    ]  # fmt: skip


async def _add(db: Database, topic: str, batch: int, count: int) -> None:
    await db.run(lambda s: add_many_to_outbox(s, topic, _events(batch, count)))


async def _drained(db: Database) -> None:
    async with asyncio.timeout(30):
        while await db.run(pending_count):
            await asyncio.sleep(0.1)


async def test_two_relays_publish_each_event_once_in_order_and_the_standby_takes_over(
    stack: Stack, namespace: str
) -> None:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    url = f"{stack.database_url}_{namespace.strip('.')}_relays"
    ensure_postgres_database(url)
    replicas = [Database(url, [OutboxEvent, ProcessedEvent]) for _ in range(2)]
    tables = [OutboxEvent.__table__, ProcessedEvent.__table__]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(replicas[0].engine, tables)
    topic = f"{namespace}encounters.received"
    publishers = [Publisher(stack.kafka, **stack.kafka_auth()) for _ in replicas]
    relays = [OutboxRelay(db, p, 0.05) for db, p in zip(replicas, publishers, strict=True)]
    for publisher in publishers:
        await publisher.start()
    tasks = [asyncio.create_task(relay.run_forever()) for relay in relays]
    before = sample("chartflow_outbox_published_total")
    try:
        for batch in range(6):  # rows arrive while both relays poll
            await _add(replicas[batch % 2], topic, batch, 50)
            await asyncio.sleep(0.07)
        await _drained(replicas[0])
        holders = [await relay.leadership.held() for relay in relays]
        assert sorted(holders) == [False, True], holders  # one leader, one standby

        leader = holders.index(True)
        tasks[leader].cancel()  # the leader's process stops: its session, and lock, end
        with contextlib.suppress(asyncio.CancelledError):
            await tasks[leader]
        await _add(replicas[leader], topic, 6, 50)
        await _drained(replicas[leader])
        assert await relays[1 - leader].leadership.held()

        found = await read_messages(stack, topic, 350)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for publisher in publishers:
            await publisher.stop()
        for db in replicas:
            db.close()

    ids = Counter(e.id for e in found)
    assert len(ids) == 350 and max(ids.values()) == 1, ids.most_common(3)  # none twice
    assert sample("chartflow_outbox_published_total") - before == 350
    for key in {e.subject for e in found}:  # each key's events in the order they were added
        order = [(e.data["batch"], e.data["n"]) for e in found if e.subject == key]
        assert order == sorted(order), key
