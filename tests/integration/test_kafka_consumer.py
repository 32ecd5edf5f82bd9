"""The consumer helper against the real broker: DLQ for poison, commits only after success."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaConsumer

from shared.events.envelope import Envelope
from shared.events.intake import EncounterReceived
from shared.kafka import Consumer, Publisher
from shared.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED
from tests.conftest import Stack

pytestmark = pytest.mark.kafka


KEY = "hospital:enc-1"  # one encounter's events share a key, hence a partition and an order


def _envelope(kind: str) -> Envelope:
    return Envelope(type=kind, source="test", subject=KEY, tenant="t", dataschema="x", data={})


async def _run(consumer: Consumer, until: asyncio.Event) -> None:
    await consumer.start()
    task = asyncio.create_task(consumer.run_forever())
    try:
        await asyncio.wait_for(until.wait(), 30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


async def _read_dlq(stack: Stack, topic: str, count: int) -> list[tuple[bytes, dict[str, bytes]]]:
    reader = AIOKafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=stack.kafka,
        auto_offset_reset="earliest",
        **stack.kafka_auth(),
    )
    await reader.start()
    found: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                for messages in (await reader.getmany(timeout_ms=500)).values():
                    found += [(m.value or b"", dict(m.headers)) for m in messages]
        return found
    finally:
        await reader.stop()


async def test_poison_message_goes_to_dlq_with_reason_and_consumption_continues(
    stack: Stack, namespace: str
) -> None:
    topic = f"{namespace}encounters.received"
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    seen: list[str] = []
    done = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        envelope.payload(EncounterReceived)  # a ping is not an encounter: ValueError
        seen.append(envelope.id)

    async def record(envelope: Envelope) -> None:
        if envelope.type == "test.good":
            seen.append(envelope.id)
            done.set()
            return
        await handler(envelope)

    try:
        await publisher.send_raw(topic, KEY, b"{not json")
        await publisher.publish(topic, _envelope("test.ping"))
        phi = _envelope(EncounterReceived.event_type)
        phi.data = {"encounter": {"patient": {"birth_date": "12/04/1968"}}}
        await publisher.publish(topic, phi)
        good = _envelope("test.good")
        await publisher.publish(topic, good)
        consumer = Consumer(
            stack.kafka, topic, f"{namespace}g", record, publisher, **stack.kafka_auth()
        )
        await _run(consumer, done)
        dead = await _read_dlq(stack, topic, 3)
    finally:
        await publisher.stop()

    assert seen == [good.id]
    assert [value for value, _ in dead][0] == b"{not json"
    reasons = [headers["dlq.reason"].decode() for _, headers in dead]
    assert "not a valid event envelope" in reasons[0]
    assert "expected event type" in reasons[1]
    assert "encounter_key: Field required" in reasons[2]
    assert "12/04/1968" not in reasons[2]  # the reason names the field, never the value
    assert all(headers["dlq.topic"] == topic.encode() for _, headers in dead)
    assert EVENTS_DEAD_LETTERED.value(topic=topic) == 3  # what ops see on /metrics
    assert EVENTS_CONSUMED.value(topic=topic) == 1


async def test_offsets_are_committed_only_after_the_handler_succeeded(
    stack: Stack, namespace: str
) -> None:
    topic = f"{namespace}coding.events"
    group = f"{namespace}g"
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    first, second = _envelope("test.ping"), _envelope("test.ping")
    attempts: list[str] = []
    try:
        await publisher.publish(topic, first)
        await publisher.publish(topic, second)

        crashed = asyncio.Event()

        async def crash_on_second(envelope: Envelope) -> None:
            attempts.append(envelope.id)
            if envelope.id == second.id:
                crashed.set()
                await asyncio.sleep(3600)  # the process dies mid-handler

        await _run(
            Consumer(stack.kafka, topic, group, crash_on_second, publisher, **stack.kafka_auth()),
            crashed,
        )

        redelivered = asyncio.Event()
        after_restart: list[str] = []

        async def record(envelope: Envelope) -> None:
            after_restart.append(envelope.id)
            redelivered.set()

        await _run(
            Consumer(stack.kafka, topic, group, record, publisher, **stack.kafka_auth()),
            redelivered,
        )
    finally:
        await publisher.stop()

    assert attempts == [first.id, second.id]
    assert after_restart == [second.id]


async def test_a_failing_dependency_is_retried_until_it_is_back_and_nothing_is_dead_lettered(
    stack: Stack, namespace: str
) -> None:
    topic = f"{namespace}claims.status"
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    attempts: list[str] = []
    done = asyncio.Event()

    async def flaky_database(envelope: Envelope) -> None:
        attempts.append(envelope.id)
        if len(attempts) < 4:
            raise ConnectionError("database restarting")
        done.set()

    try:
        message = _envelope("test.ping")
        await publisher.publish(topic, message)
        consumer = Consumer(
            stack.kafka,
            topic,
            f"{namespace}g",
            flaky_database,
            publisher,
            retry_backoff_seconds=0.05,
            **stack.kafka_auth(),
        )
        await _run(consumer, done)
        dead = await _read_dlq(stack, topic, 0)
    finally:
        await publisher.stop()

    assert attempts == [message.id] * 4
    assert dead == []
