"""aiokafka producer and consumer helpers.

The consumer commits an offset only after its handler succeeded. A message that can never be
processed (not an envelope, a payload that does not match its type, a `PermanentError`) goes
to `<topic>.dlq` with the reason in its headers, and consumption continues. Any other failure
(an outage) is retried with backoff until it succeeds: good messages are never dead-lettered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from shared.events.envelope import Envelope
from shared.events.topics import dead_letter
from shared.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED

log = structlog.get_logger()

Handler = Callable[[Envelope], Awaitable[None]]


MAX_BACKOFF_SECONDS = 30.0


def describe(exc: ValidationError) -> str:
    """Which fields are wrong and why, without the values (they may be PHI)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)[:5]
    )


class PermanentError(Exception):
    """The message can never be processed as it is: dead-letter it without retrying."""


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
        await self._producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)

    async def publish(self, topic: str, envelope: Envelope) -> None:
        await self.send_raw(topic, envelope.subject, envelope.to_bytes())


class Consumer:
    """Consume `topic` in consumer group `group`, one message at a time per partition;
    `client_options` as for `Publisher`."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        group: str,
        handler: Handler,
        publisher: Publisher,
        retry_backoff_seconds: float = 0.5,
        **client_options: Any,
    ) -> None:
        self.topic = topic
        self.group = group
        self.handler = handler
        self.publisher = publisher
        self.retry_backoff_seconds = retry_backoff_seconds
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
            **client_options,
        )

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def run_forever(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=100)
            for tp, messages in batches.items():
                for message in messages:
                    await self._process(message)
                    await self._consumer.commit({tp: OffsetAndMetadata(message.offset + 1, "")})

    async def _process(self, message: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = Envelope.from_bytes(message.value or b"")
        except ValidationError as exc:
            await self._dead_letter(message, f"not a valid event envelope: {describe(exc)}")
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.handler(envelope)
                EVENTS_CONSUMED.inc(topic=message.topic)
                return
            except ValidationError as exc:  # the payload does not match its schema
                await self._dead_letter(message, describe(exc))
                return
            except (PermanentError, ValueError) as exc:
                await self._dead_letter(message, str(exc))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A database, Temporal or broker outage: keep the message and try again, so
                # nothing good is dead-lettered; the partition waits, keeping its order.
                delay = min(self.retry_backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                log.warning(
                    "consumer.handler_failed",
                    topic=self.topic,
                    event_id=envelope.id,
                    attempt=attempt,
                    error=type(exc).__name__,
                    retry_in=delay,
                )
                await asyncio.sleep(delay)

    async def _dead_letter(self, message: ConsumerRecord[bytes, bytes], reason: str) -> None:
        headers = [
            ("dlq.reason", reason.encode()[:2000]),
            ("dlq.topic", message.topic.encode()),
            ("dlq.partition", str(message.partition).encode()),
            ("dlq.offset", str(message.offset).encode()),
            ("dlq.consumer", self.group.encode()),
        ]
        key = (message.key or b"").decode(errors="replace")
        await self.publisher.send_raw(
            dead_letter(message.topic), key, message.value or b"", headers
        )
        EVENTS_DEAD_LETTERED.inc(topic=message.topic)
        log.error(
            "consumer.dead_lettered",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            reason=reason[:300],
        )


__all__ = ["Consumer", "PermanentError", "Publisher"]
