"""aiokafka producer and consumer helpers.

The consumer processes each partition in its own task. A partition's messages are handled in
waves: up to `max_in_flight` messages with distinct keys at once (default one), so one
encounter's events keep their order while I/O-bound handlers (a Temporal signal, a database
round trip) overlap. An offset is committed only after its handler succeeded or the message was
dead-lettered, and commits are coalesced: when the partition has caught up, or every
`COMMIT_INTERVAL_SECONDS` during a burst (a crash re-delivers what was handled since, and the
consumers' inboxes drop it). A failure is classified (`shared.failures`): a transient one
(broker, database, Temporal, timeout) is retried with capped exponential backoff; anything else
goes to `<topic>.dlq` with a PHI-free reason at once, and so does a transient one that outlived
its retry budget. The budget only burns while the consumer's dependencies answer their health
probe: during an outage of the database or Temporal every partition waits, and nothing good is
dead-lettered. A poison message holds up only its own partition, for at most its budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from shared import tracing
from shared.events.envelope import Envelope
from shared.events.topics import dead_letter
from shared.failures import PermanentError, TransientError, classify, describe
from shared.metrics import (
    CONSUMER_SECONDS,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_RETRIED,
    EVENTS_SUPERSEDED,
)

log = structlog.get_logger()

Handler = Callable[[Envelope], Awaitable[None]]
#: True when the `newer` event of a key makes the `older` one (still unhandled) redundant.
Supersedes = Callable[[Envelope, Envelope], bool]
#: True while the consumer's dependencies (database, Temporal) answer.
Probe = Callable[[], Awaitable[bool]]
Message: TypeAlias = ConsumerRecord[bytes, bytes]

MAX_QUEUED_PER_PARTITION = 500  # fetched but not yet handled; the partition pauses beyond
REVOKE_GRACE_SECONDS = 10.0  # a rebalance waits this long for a handler to finish
COMMIT_INTERVAL_SECONDS = 0.25  # during a burst, handled offsets are committed this often
STOP_COMMIT_SECONDS = 2.0  # a revoked or stopping partition's last commit waits no longer


class Publisher:
    """An idempotent producer; `client_options` say how it authenticates
    (`shared.kafka_security.kafka_auth`)."""

    def __init__(self, bootstrap_servers: str, **client_options: Any) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            request_timeout_ms=15000,
            **client_options,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_raw(
        self,
        topic: str,
        key: str,
        value: bytes,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        if tracing.enabled():  # a producer span; its context travels in the headers
            with tracing.producing(topic) as context:
                kept = [h for h in headers or [] if h[0] not in ("traceparent", "tracestate")]
                await self._producer.send_and_wait(
                    topic, value=value, key=key.encode(), headers=[*kept, *context]
                )
            return
        await self._producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)

    async def send_all(self, messages: Sequence[tuple[str, str, bytes]]) -> None:
        """Send (topic, key, value) messages in order and wait until the broker acknowledged
        them all: one linger and one round trip for the lot, not one per message."""
        delivered = [
            await self._producer.send(topic, value=value, key=key.encode())
            for topic, key, value in messages
        ]
        await asyncio.gather(*delivered)

    async def publish(self, topic: str, envelope: Envelope) -> None:
        await self.send_raw(topic, envelope.subject, envelope.to_bytes())


@dataclass(frozen=True)
class ConsumerStatus:
    """What readiness and `/metrics` report about one consumer."""

    topic: str
    group: str
    lag: int  # messages on assigned partitions not yet handled
    stuck_seconds: float  # how long the oldest message in hand has been in hand
    retrying: bool  # a message in hand failed at least once
    dependencies_down: bool  # the last probe found a dependency down
    partition_lags: tuple[tuple[int, int], ...] = ()  # (partition, lag) per assigned partition


class _Partition:
    """One partition's queue and the task that handles it, one message at a time."""

    def __init__(self, consumer: Consumer, tp: TopicPartition) -> None:
        self.tp = tp
        self.queue: deque[Message] = deque()
        self.arrived = asyncio.Event()
        self.stopping = asyncio.Event()
        self.next_offset: int | None = None  # the first offset not handled yet
        self.committed: int | None = None  # the last offset committed by this task
        self.committed_at = time.monotonic()
        self.envelopes: dict[int, Envelope | None] = {}  # by offset, read for `supersedes`
        self.unscanned = False  # messages arrived since the last look for superseded ones
        self.busy_since: float | None = None
        self.failed_attempts = 0
        self.task = asyncio.create_task(consumer._work(self), name=f"partition:{tp}")

    def lag(self, highwater: int | None) -> int:
        if highwater is None or self.next_offset is None:
            return len(self.queue)
        return max(0, highwater - self.next_offset)

    async def sleep(self, seconds: float) -> None:
        """Back off, waking early when the partition is revoked."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)


_UNREAD: Any = object()


def _read(message: Message) -> Envelope | None:
    try:
        return Envelope.from_bytes(message.value or b"")
    except ValidationError:
        return None  # dead-lettered when its turn comes


def _wave(queue: deque[Message], limit: int) -> list[Message]:
    """The head of the queue that may be handled at once: up to `limit` messages of distinct
    keys, ending before a key repeats (a keyless message is handled alone)."""
    wave: list[Message] = []
    keys: set[bytes] = set()
    for message in queue:
        if len(wave) >= limit or message.key in keys or (message.key is None and wave):
            break
        wave.append(message)
        if message.key is None:
            break
        keys.add(message.key)
    return wave


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self.consumer._stop_partitions(revoked)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        return None  # workers start with the first fetched message


LIVE_CONSUMERS: weakref.WeakSet[Consumer] = weakref.WeakSet()


class Consumer:
    """Consume `topic` in consumer group `group`, one message at a time per partition.

    `retry_backoff_seconds` is the first pause after a transient failure; it doubles up to
    `max_backoff_seconds`. A transient failure is dead-lettered once it has failed for
    `retry_budget_seconds` while `dependencies_up` said the dependencies answer (no probe:
    always). One handler call may take at most `attempt_timeout_seconds`.
    `max_in_flight` messages of distinct keys are handled at once per partition. With
    `supersedes`, an event still waiting is skipped (and committed) when a newer one of its key
    that makes it redundant is already in hand: a burst of state changes costs one call.
    `client_options` as for `Publisher` (security).
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        group: str,
        handler: Handler,
        publisher: Publisher,
        retry_backoff_seconds: float = 0.5,
        *,
        retry_budget_seconds: float = 30.0,
        max_backoff_seconds: float = 5.0,
        attempt_timeout_seconds: float = 60.0,
        dependencies_up: Probe | None = None,
        max_in_flight: int = 1,
        supersedes: Supersedes | None = None,
        **client_options: Any,
    ) -> None:
        self.topic = topic
        self.max_in_flight = max_in_flight
        self.supersedes = supersedes
        self.group = group
        self.handler = handler
        self.publisher = publisher
        self.retry_backoff_seconds = retry_backoff_seconds
        self.retry_budget_seconds = retry_budget_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.attempt_timeout_seconds = attempt_timeout_seconds
        self.dependencies_up = dependencies_up
        self.dependencies_down = False
        self._partitions: dict[TopicPartition, _Partition] = {}
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
            **client_options,
        )
        LIVE_CONSUMERS.add(self)

    async def start(self) -> None:
        self._consumer.subscribe([self.topic], listener=_Rebalance(self))
        await self._consumer.start()

    async def stop(self) -> None:
        # Shutting down: whatever is in hand is handled again by the partition's next owner.
        await self._stop_partitions(list(self._partitions), grace=0.0)
        await self._consumer.stop()

    async def run_forever(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=200)
            for tp, messages in batches.items():
                partition = self._partitions.get(tp)
                if partition is None:
                    partition = self._partitions[tp] = _Partition(self, tp)
                if partition.next_offset is None:
                    partition.next_offset = messages[0].offset
                partition.queue.extend(messages)
                partition.unscanned = True
                partition.arrived.set()
                if len(partition.queue) >= MAX_QUEUED_PER_PARTITION:
                    self._consumer.pause(tp)
            for partition in list(self._partitions.values()):
                if partition.task.done() and not partition.task.cancelled():
                    partition.task.result()  # a bug in the loop: restart the consumer

    def status(self) -> ConsumerStatus:
        now = time.monotonic()
        lag, stuck, retrying = 0, 0.0, False
        lags: list[tuple[int, int]] = []
        for tp, partition in list(self._partitions.items()):
            try:
                highwater = self._consumer.highwater(tp)
            except AssertionError:  # no longer assigned
                continue
            lags.append((tp.partition, partition.lag(highwater)))
            lag += lags[-1][1]
            if partition.busy_since is not None:
                stuck = max(stuck, now - partition.busy_since)
                retrying = retrying or partition.failed_attempts > 0
        return ConsumerStatus(
            self.topic, self.group, lag, stuck, retrying, self.dependencies_down, tuple(lags)
        )

    async def _stop_partitions(
        self, tps: Iterable[TopicPartition], grace: float = REVOKE_GRACE_SECONDS
    ) -> None:
        stopping = [p for tp in tps if (p := self._partitions.pop(tp, None)) is not None]
        for partition in stopping:
            partition.stopping.set()
        for partition in stopping:
            try:
                await asyncio.wait_for(asyncio.shield(partition.task), grace)
            except Exception:  # the partition's new owner handles what was left
                partition.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await partition.task
            # What it handled, so far as known; bounded: during a rebalance or a broker outage
            # aiokafka's commit waits for the coordinator, and a stop must not hang on it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._commit_handled(partition), STOP_COMMIT_SECONDS)

    async def _work(self, partition: _Partition) -> None:
        while not partition.stopping.is_set():
            if not partition.queue:
                partition.arrived.clear()
                waits = [partition.arrived.wait(), partition.stopping.wait()]
                tasks = [asyncio.ensure_future(w) for w in waits]
                try:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in tasks:
                        task.cancel()
                continue
            if self.supersedes is not None and partition.unscanned:
                partition.unscanned = False  # nothing new: a rescan could skip nothing more
                self._skip_superseded(partition, self.supersedes)
            wave = _wave(partition.queue, self.max_in_flight)
            partition.busy_since, partition.failed_attempts = time.monotonic(), 0
            done = await asyncio.gather(*(self._process(m, partition) for m in wave))
            partition.busy_since = None
            if not all(done):
                return  # revoked while retrying: the partition's next owner takes over
            for message in wave:
                partition.queue.popleft()
                partition.envelopes.pop(message.offset, None)
            partition.next_offset = wave[-1].offset + 1
            if not partition.queue or time.monotonic() - partition.committed_at > (
                COMMIT_INTERVAL_SECONDS
            ):
                await self._commit_handled(partition)
            if len(partition.queue) < MAX_QUEUED_PER_PARTITION // 2:
                with contextlib.suppress(Exception):
                    self._consumer.resume(partition.tp)

    def _skip_superseded(self, partition: _Partition, supersedes: Supersedes) -> None:
        latest: dict[bytes | None, Envelope] = {}
        kept: deque[Message] = deque()
        for message in reversed(partition.queue):  # newest first
            envelope = partition.envelopes.get(message.offset, _UNREAD)
            if envelope is _UNREAD:
                envelope = partition.envelopes[message.offset] = _read(message)
            newer = latest.get(message.key)
            if envelope is not None and newer is not None and supersedes(envelope, newer):
                partition.envelopes.pop(message.offset, None)
                EVENTS_SUPERSEDED.labels(topic=message.topic).inc()
                continue
            if envelope is not None and newer is None:
                latest[message.key] = envelope
            kept.appendleft(message)
        partition.queue = kept

    async def _commit_handled(self, partition: _Partition) -> None:
        offset = partition.next_offset
        if offset is None or offset == partition.committed:
            return
        try:
            await self._consumer.commit({partition.tp: OffsetAndMetadata(offset, "")})
            partition.committed, partition.committed_at = offset, time.monotonic()
        except KafkaError as exc:
            # A rebalance took the partition: the new owner re-reads from the last commit and
            # the consumers' inboxes drop what was handled twice.
            log.warning("consumer.commit_failed", topic=self.topic, error=type(exc).__name__)

    async def _process(self, message: Message, partition: _Partition) -> bool:
        """Handle, or dead-letter, one message; False when the partition was revoked first."""
        if not tracing.enabled():
            return await self._handle(message, partition)
        headers = message.headers or ()
        with tracing.consuming(message.topic, message.partition, message.offset, headers):
            return await self._handle(message, partition)

    async def _handle(self, message: Message, partition: _Partition) -> bool:
        try:  # read already when the consumer looked for superseded events
            envelope = partition.envelopes.get(message.offset) or Envelope.from_bytes(
                message.value or b""
            )
        except ValidationError as exc:
            reason = f"not a valid event envelope: {describe(exc)}"
            return await self._dead_letter(message, partition, reason, "ValidationError", 0)
        spent, since, attempts = 0.0, time.monotonic(), 0
        while True:
            try:
                await asyncio.wait_for(self.handler(envelope), self.attempt_timeout_seconds)
                EVENTS_CONSUMED.labels(topic=message.topic).inc()
                outcome = "retried" if attempts else "ok"
                _observe(message.topic, outcome, partition)
                self.dependencies_down = False
                return True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = classify(exc)
            attempts += 1  # this message's; the partition's count says "retrying" in /health
            partition.failed_attempts += 1
            if not failure.transient:
                self.dependencies_down = False  # whatever failed, it was not an outage
                return await self._dead_letter(
                    message, partition, failure.reason, failure.error, attempts
                )
            now = time.monotonic()
            self.dependencies_down = not await self._dependencies_answer()
            if not self.dependencies_down:
                spent += now - since  # the dependency answers others: this message is at fault
            since = now
            if spent >= self.retry_budget_seconds:
                reason = (
                    f"{failure.reason}; still failing after {attempts} attempts and "
                    f"{spent:.0f}s (retry budget {self.retry_budget_seconds:g}s)"
                )
                return await self._dead_letter(message, partition, reason, failure.error, attempts)
            delay = min(self.retry_backoff_seconds * 2 ** (attempts - 1), self.max_backoff_seconds)
            EVENTS_RETRIED.labels(topic=message.topic, error=failure.error).inc()
            log.warning(
                "consumer.handler_failed",
                topic=self.topic,
                partition=message.partition,
                offset=message.offset,
                event_id=envelope.id,
                attempt=attempts,
                error=failure.error,
                dependencies_down=self.dependencies_down,
                retry_in=delay,
            )
            await partition.sleep(delay)
            if partition.stopping.is_set():
                return False

    async def _dependencies_answer(self) -> bool:
        if self.dependencies_up is None:
            return True
        try:
            return await asyncio.wait_for(self.dependencies_up(), 5.0)
        except asyncio.CancelledError:
            raise
        except Exception:
            return False

    async def _dead_letter(
        self, message: Message, partition: _Partition, reason: str, error: str, attempts: int
    ) -> bool:
        headers = [
            ("dlq.reason", reason.encode()[:2000]),
            ("dlq.error", error.encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.topic", message.topic.encode()),
            ("dlq.partition", str(message.partition).encode()),
            ("dlq.offset", str(message.offset).encode()),
            ("dlq.consumer", self.group.encode()),
        ]
        key = (message.key or b"").decode(errors="replace")
        delay = self.retry_backoff_seconds
        while True:  # the broker is down: keep the message until the DLQ takes it
            try:
                await self.publisher.send_raw(
                    dead_letter(message.topic), key, message.value or b"", headers
                )
                break
            except KafkaError as exc:
                error = type(exc).__name__
                log.warning("consumer.dead_letter_failed", topic=self.topic, error=error)
                await partition.sleep(delay)
                delay = min(delay * 2, self.max_backoff_seconds)
                if partition.stopping.is_set():
                    return False
        EVENTS_DEAD_LETTERED.labels(topic=message.topic).inc()
        _observe(message.topic, "dead_lettered", partition)
        log.error(
            "consumer.dead_lettered",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            error=error,
            reason=reason[:300],
        )
        return True


def _observe(topic: str, outcome: str, partition: _Partition) -> None:
    """The consumer histogram: from taking the message (first attempt) to being done."""
    if partition.busy_since is not None:
        seconds = time.monotonic() - partition.busy_since
        CONSUMER_SECONDS.labels(topic=topic, outcome=outcome).observe(seconds)


__all__ = [
    "LIVE_CONSUMERS",
    "Consumer",
    "ConsumerStatus",
    "PermanentError",
    "Probe",
    "Publisher",
    "Supersedes",
    "TransientError",
]
