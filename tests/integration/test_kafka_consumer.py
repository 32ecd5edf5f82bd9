"""The consumer against the real broker and database: poison goes to the DLQ with a PHI-free
reason, a transient failure gets a bounded budget, an outage dead-letters nothing, and one
poison message never holds up other partitions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlmodel import text

from shared.db import Database
from shared.dlq import DeadLetter, DeadLetterTopic, list_entries, replay
from shared.events.envelope import Envelope
from shared.events.intake import EncounterReceived
from shared.kafka import Consumer, Publisher
from shared.metrics import sample
from shared.settings import ChartflowSettings
from tests.conftest import Stack
from tests.integration.proxy import TcpProxy

pytestmark = pytest.mark.kafka

# Keys and the partition (of 3) the default partitioner gives them.
KEY = "hospital:enc-0"  # partition 0
SAME_PARTITION_KEY = "hospital:enc-1"  # partition 0
OTHER_PARTITION_KEYS = ("hospital:enc-2", "hospital:enc-3")  # partitions 1 and 2


def _envelope(kind: str, key: str = KEY) -> Envelope:
    return Envelope(type=kind, source="test", subject=key, tenant="t", dataschema="x", data={})


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


def _then_settled(event: asyncio.Event, seconds: float = 1.0) -> asyncio.Event:
    """Set `seconds` after `event`: the consumer has finished its wave and committed it."""
    settled = asyncio.Event()

    async def wait() -> None:
        await event.wait()
        await asyncio.sleep(seconds)
        settled.set()

    _SETTLING.add(asyncio.create_task(wait()))
    return settled


_SETTLING: set[asyncio.Task[None]] = set()


async def _next_member_reads(
    stack: Stack, publisher: Publisher, topic: str, group: str, key: str
) -> tuple[Envelope, list[str]]:
    """A marker published now, and what the group's next member reads up to it: only the
    marker when everything before it was committed."""
    marker = _envelope("test.marker", key)
    await publisher.publish(topic, marker)
    reached = asyncio.Event()
    read: list[str] = []

    async def record(envelope: Envelope) -> None:
        read.append(envelope.id)
        if envelope.id == marker.id:
            reached.set()

    await _run(
        Consumer(stack.kafka, topic, group, record, publisher, **stack.kafka_auth()), reached
    )
    return marker, read


async def _dead_letters(stack: Stack, topic: str, namespace: str) -> list[DeadLetter]:
    """Every entry of the topic's DLQ, read to its end (none when there is no DLQ yet)."""
    settings = ChartflowSettings(**stack.kafka_settings())
    async with DeadLetterTopic(settings, f"{topic}.dlq", f"{namespace}reader") as dlq:
        return await dlq.entries(pending_only=False)


async def test_poison_messages_go_to_the_dlq_with_a_reason_and_consumption_continues(
    stack: Stack, namespace: str
) -> None:
    topic = f"{namespace}encounters.received"
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    seen: list[str] = []
    done = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        if envelope.type == "test.good":
            seen.append(envelope.id)
            done.set()
        elif envelope.type == "test.price":
            Decimal("1E+30").quantize(Decimal("0.01"))  # decimal.InvalidOperation
        else:
            envelope.payload(EncounterReceived)  # a ping is not an encounter: ValueError

    try:
        await publisher.send_raw(topic, KEY, b"{not json")
        await publisher.publish(topic, _envelope("test.ping"))
        phi = _envelope(EncounterReceived.event_type)
        phi.data = {"encounter": {"patient": {"birth_date": "12/04/1968"}}}
        await publisher.publish(topic, phi)
        await publisher.publish(topic, _envelope("test.price"))
        good = _envelope("test.good")
        await publisher.publish(topic, good)
        consumer = Consumer(
            stack.kafka, topic, f"{namespace}g", handler, publisher, **stack.kafka_auth()
        )
        await _run(consumer, done)
        dead = await _dead_letters(stack, topic, namespace)
    finally:
        await publisher.stop()

    assert seen == [good.id]
    assert [entry.value for entry in dead][0] == b"{not json"
    reasons = [entry.reason for entry in dead]
    assert len(reasons) == 4
    assert "not a valid event envelope" in reasons[0]
    assert reasons[1].startswith("ValueError at shared/events/envelope.py")
    assert "encounter_key: Field required" in reasons[2]
    assert "12/04/1968" not in reasons[2]  # the reason names the field, never the value
    assert reasons[3].startswith("InvalidOperation at tests/integration/test_kafka_consumer.py")
    assert "1E+30" not in reasons[3]
    assert [entry.attempts for entry in dead] == ["0", "1", "1", "1"]  # never retried
    assert all(entry.topic == topic and entry.key == KEY for entry in dead)
    assert sample("chartflow_events_dead_lettered_total", topic=topic) == 4  # on /metrics
    assert sample("chartflow_events_consumed_total", topic=topic) == 1


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


def _through(proxy: TcpProxy, url: str) -> str:
    """The database URL with the proxy in place of the server's address."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    netloc = f"{user}127.0.0.1:{proxy.port}"
    return parts._replace(netloc=netloc).geturl()


@pytest.fixture
async def database_behind_proxy(stack: Stack):  # type: ignore[no-untyped-def]
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    server = urlsplit(stack.database_url)
    proxy = TcpProxy(server.hostname or "127.0.0.1", server.port or 5432)
    await proxy.restore()
    db = Database(_through(proxy, stack.database_url), [])
    try:
        yield proxy, db
    finally:
        await proxy.cut()
        db.close()


async def test_a_database_outage_dead_letters_nothing_and_consumption_resumes_when_it_is_back(
    stack: Stack, namespace: str, database_behind_proxy: tuple[TcpProxy, Database]
) -> None:
    proxy, db = database_behind_proxy
    topic = f"{namespace}claims.status"
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    handled: list[str] = []
    all_handled = asyncio.Event()
    keys = (KEY, *OTHER_PARTITION_KEYS)

    def select_one(session) -> None:  # type: ignore[no-untyped-def]
        session.exec(text("SELECT 1")).one()

    async def record(envelope: Envelope) -> None:
        await db.run(select_one)
        handled.append(envelope.subject)
        if len(handled) == len(keys):
            all_handled.set()

    async def database_answers() -> bool:
        await db.run(select_one)
        return True

    consumer = Consumer(
        stack.kafka,
        topic,
        f"{namespace}g",
        record,
        publisher,
        retry_backoff_seconds=0.05,
        retry_budget_seconds=1.0,
        max_backoff_seconds=0.2,
        dependencies_up=database_answers,
        **stack.kafka_auth(),
    )
    try:
        await proxy.cut()  # the database goes away for every event
        for key in keys:
            await publisher.publish(topic, _envelope("test.ping", key))
        await consumer.start()
        task = asyncio.create_task(consumer.run_forever())
        await asyncio.sleep(4.0)  # four retry budgets
        during_outage = list(handled)
        status = consumer.status()
        await proxy.restore()
        await asyncio.wait_for(all_handled.wait(), 30)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()
        dead = await _dead_letters(stack, topic, namespace)
    finally:
        await publisher.stop()

    assert during_outage == []
    assert status.dependencies_down and status.retrying and status.stuck_seconds > 3
    assert sorted(handled) == sorted(keys)
    assert dead == []


async def test_a_message_failing_transiently_alone_is_dead_lettered_after_its_budget_and_other_partitions_never_wait(  # noqa: E501
    stack: Stack, namespace: str, database_behind_proxy: tuple[TcpProxy, Database]
) -> None:
    _proxy, db = database_behind_proxy
    topic = f"{namespace}encounters.coded"
    budget = 2.0
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    handled: dict[str, float] = {}
    all_good = asyncio.Event()
    good_keys = (SAME_PARTITION_KEY, *OTHER_PARTITION_KEYS)

    def slow_query(session) -> None:  # type: ignore[no-untyped-def]
        # The real database cancels it (QueryCanceled, an OperationalError) every time.
        session.exec(text("SET LOCAL statement_timeout = 50"))
        session.exec(text("SELECT pg_sleep(1)"))

    async def handler(envelope: Envelope) -> None:
        if envelope.subject == KEY:
            handled.setdefault("first poison attempt", time.monotonic())
            await db.run(slow_query)
        handled[envelope.subject] = time.monotonic()
        if set(good_keys) <= set(handled):
            all_good.set()

    async def database_answers() -> bool:
        await db.run(lambda s: s.exec(text("SELECT 1")).one())
        return True

    consumer = Consumer(
        stack.kafka,
        topic,
        f"{namespace}g",
        handler,
        publisher,
        retry_backoff_seconds=0.05,
        retry_budget_seconds=budget,
        max_backoff_seconds=0.2,
        dependencies_up=database_answers,
        **stack.kafka_auth(),
    )
    try:
        await publisher.publish(topic, _envelope("test.poison", KEY))
        for key in good_keys:
            await publisher.publish(topic, _envelope("test.good", key))
        await _run(consumer, all_good)
        dead = await _dead_letters(stack, topic, namespace)
    finally:
        await publisher.stop()

    assert [entry.key for entry in dead] == [KEY]
    assert dead[0].reason.startswith("OperationalError at ")
    assert f"(retry budget {budget:g}s)" in dead[0].reason
    assert int(dead[0].attempts) > 3
    started = handled["first poison attempt"]
    for key in OTHER_PARTITION_KEYS:  # other partitions did not wait for the poison message
        assert handled[key] - started < budget / 2, key
    # Its own partition waited for the budget, not longer.
    assert budget <= handled[SAME_PARTITION_KEY] - started < budget + 3


async def test_dead_letters_replayed_after_a_fix_are_handled_and_leave_the_pending_list(
    stack: Stack, namespace: str
) -> None:
    settings = ChartflowSettings(**stack.kafka_settings(), chartflow_namespace_prefix=namespace)
    topic = settings.topic("coding.tasks")
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    fixed = False
    handled: list[str] = []
    two_handled = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        if not fixed:
            raise KeyError("chart")  # a bug: every task is dead-lettered
        handled.append(envelope.id)
        if len(handled) == 2:
            two_handled.set()

    events = [_envelope("test.task", key) for key in OTHER_PARTITION_KEYS]
    consumer = Consumer(
        stack.kafka, topic, f"{namespace}g", handler, publisher, **stack.kafka_auth()
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run_forever())
    try:
        for event in events:
            await publisher.publish(topic, event)
        async with asyncio.timeout(30):
            while len(pending := await list_entries(settings, ["coding.tasks"], True)) < 2:
                await asyncio.sleep(0.2)
        fixed = True  # the bug is fixed and deployed
        replayed = await replay(settings, "coding.tasks")
        await asyncio.wait_for(two_handled.wait(), 30)
        after = await list_entries(settings, ["coding.tasks"], pending_only=True)
        everything = await list_entries(settings, ["coding.tasks"], pending_only=False)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()
        await publisher.stop()

    assert {e.reason.split(" at ")[0] for e in pending} == {"KeyError"}
    assert sorted(e.key for e in replayed) == sorted(OTHER_PARTITION_KEYS)
    assert sorted(handled) == sorted(e.id for e in events)
    assert after == []  # replayed entries no longer count as pending (nor as DLQ depth)
    assert len(everything) == 2  # and stay in the topic for the record


async def test_events_of_distinct_encounters_are_handled_at_once_and_each_keeps_its_order(
    stack: Stack, namespace: str
) -> None:
    topic = f"{namespace}claims.status"
    group = f"{namespace}g"
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    keys = [f"hospital:enc-{n}" for n in range(8)]
    sent = {key: [_envelope(f"test.step{step}", key) for step in range(3)] for key in keys}
    handled: dict[str, list[str]] = {key: [] for key in keys}
    in_hand, most_in_hand = 0, 0
    all_handled = asyncio.Event()

    async def slow(envelope: Envelope) -> None:
        nonlocal in_hand, most_in_hand
        in_hand += 1
        most_in_hand = max(most_in_hand, in_hand)
        # A Temporal call, say; a later step is quicker, so handled together it would finish first.
        await asyncio.sleep(0.3 - 0.1 * int(envelope.type[-1]))
        in_hand -= 1
        handled[envelope.subject].append(envelope.id)
        if sum(map(len, handled.values())) == 3 * len(keys):
            all_handled.set()

    try:
        for step in range(3):
            for key in keys:
                await publisher.publish(topic, sent[key][step])
        consumer = Consumer(
            stack.kafka, topic, group, slow, publisher, max_in_flight=8, **stack.kafka_auth()
        )
        await _run(consumer, _then_settled(all_handled))
        # Everything handled was committed: the group's next member starts after it.
        marker, again = await _next_member_reads(stack, publisher, topic, group, keys[0])
    finally:
        await publisher.stop()

    assert handled == {key: [e.id for e in sent[key]] for key in keys}  # each key in order
    assert most_in_hand > 3  # more than one at a time per partition (3 partitions)
    assert again == [marker.id]


async def test_a_waiting_event_a_newer_one_supersedes_is_skipped_and_committed(
    stack: Stack, namespace: str
) -> None:
    topic = f"{namespace}claims.status"
    group = f"{namespace}g"
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    keys = [f"hospital:enc-{n}" for n in range(4)]
    steps = {key: [_envelope(f"test.step{n}", key) for n in range(4)] for key in keys}
    handled: list[str] = []
    newest = {steps[key][-1].id for key in keys}
    got_newest = asyncio.Event()

    async def record(envelope: Envelope) -> None:
        handled.append(envelope.id)
        if newest <= set(handled):
            got_newest.set()

    def newer_step(older: Envelope, newer: Envelope) -> bool:
        return older.type < newer.type and older.type != "test.step1"  # step 1 always counts

    try:
        for n in range(4):
            for key in keys:
                await publisher.publish(topic, steps[key][n])  # all waiting at the first fetch
        consumer = Consumer(
            stack.kafka,
            topic,
            group,
            record,
            publisher,
            supersedes=newer_step,
            **stack.kafka_auth(),
        )
        await _run(consumer, _then_settled(got_newest))
        marker, again = await _next_member_reads(stack, publisher, topic, group, keys[0])
    finally:
        await publisher.stop()

    expected = {e.id for key in keys for e in (steps[key][1], steps[key][3])}
    assert set(handled) == expected  # steps 0 and 2 skipped, step 1 kept as told
    assert again == [marker.id]  # the skipped ones were committed too
