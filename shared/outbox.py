"""Transactional outbox and inbox.

A state change and the event announcing it commit in one transaction (`add_to_outbox`); the
`OutboxRelay` publishes pending rows and marks them sent, so an accepted request survives a
Kafka outage. Consumers record processed event ids in the same transaction as their state
change (`claim_event`), which makes at-least-once delivery safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select, update

from shared import tracing
from shared.crypto import EncryptedText
from shared.db import Database
from shared.events.envelope import Envelope
from shared.kafka import Publisher
from shared.leader import Leadership
from shared.metrics import OUTBOX_PUBLISHED

log = structlog.get_logger()


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=64)
    topic: str = Field(max_length=200)
    key: str = Field(max_length=200)
    payload: str = Field(sa_type=EncryptedText)  # events may carry PHI
    created_at: datetime = Field(default_factory=_now)
    published_at: datetime | None = Field(default=None, index=True)


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    consumer: str = Field(primary_key=True, max_length=100)
    processed_at: datetime = Field(default_factory=_now)


def _row(topic: str, envelope: Envelope) -> dict[str, Any]:
    if tracing.enabled() and envelope.traceparent is None:
        envelope.traceparent = tracing.current_traceparent()  # the relay's publish continues it
    return {
        "event_id": envelope.id,
        "topic": topic,
        "key": envelope.subject,
        "payload": envelope.model_dump_json(),
        "created_at": _now(),
    }


def add_to_outbox(session: Session, topic: str, envelope: Envelope) -> None:
    session.add(OutboxEvent(**_row(topic, envelope)))


def add_many_to_outbox(session: Session, topic: str, envelopes: Sequence[Envelope]) -> None:
    """`add_to_outbox` for many events at once: one multi-row INSERT, no ORM objects."""
    if envelopes:
        session.execute(insert(OutboxEvent), [_row(topic, e) for e in envelopes])


def pending_count(session: Session) -> int:
    query = (
        select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
    )
    return int(session.exec(query).one())


def oldest_pending_seconds(session: Session) -> float:
    """How long the oldest unpublished event has waited (0 when none waits)."""
    query = select(func.min(OutboxEvent.created_at)).where(col(OutboxEvent.published_at).is_(None))
    oldest = session.exec(query).one()
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite keeps no zone; rows are written in UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (_now() - oldest).total_seconds())


def claim_event(session: Session, consumer: str, event_id: str) -> bool:
    """Record the event as processed; False when it already was (skip the handler's effect)."""
    if session.get(ProcessedEvent, (event_id, consumer)) is not None:
        return False
    session.add(ProcessedEvent(event_id=event_id, consumer=consumer))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


class OutboxRelay:
    """Publishes outbox rows in insertion order; marks each sent only after Kafka acknowledged.

    Every replica of a service runs a relay, but only the one holding the database's
    `Leadership("outbox-relay")` publishes: two relays would send the same rows twice and
    could interleave one encounter's events out of order. The others take over when it dies.
    """

    def __init__(self, db: Database, publisher: Publisher, poll_seconds: float = 0.2) -> None:
        self.db = db
        self.publisher = publisher
        self.poll_seconds = poll_seconds
        self.leadership = Leadership(db, "outbox-relay")

    def _pending(self, session: Session) -> list[OutboxEvent]:
        query = (
            select(OutboxEvent)
            .where(col(OutboxEvent.published_at).is_(None))
            .order_by(col(OutboxEvent.seq))
            .limit(200)
        )
        return list(session.exec(query))

    def _mark_sent(self, session: Session, seqs: list[int]) -> None:
        # One UPDATE: loading the rows again would decrypt every payload a second time.
        sent = update(OutboxEvent).where(col(OutboxEvent.seq).in_(seqs)).values(published_at=_now())
        session.exec(sent.execution_options(synchronize_session=False))

    async def publish_pending(self) -> int:
        rows = await self.db.run(self._pending)
        if not rows:
            return 0
        if tracing.enabled():  # each row continues its request's trace: a producer span each
            for row in rows:
                with tracing.continuing(tracing.traceparent_in(row.payload)):
                    await self.publisher.send_raw(row.topic, row.key, row.payload.encode())
        else:
            await self.publisher.send_all([(r.topic, r.key, r.payload.encode()) for r in rows])
        await self.db.run(lambda s: self._mark_sent(s, [r.seq for r in rows if r.seq]))
        OUTBOX_PUBLISHED.inc(len(rows))
        log.debug("outbox.published", count=len(rows))
        return len(rows)

    async def run_forever(self) -> None:
        try:
            await self._relay()
        finally:
            self.leadership.release()

    async def _relay(self) -> None:
        while True:
            try:
                sent = await self.publish_pending() if await self.leadership.held() else 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or database down: keep the rows, try again.
                log.warning("outbox.relay_failed", error=str(exc))
                await asyncio.sleep(1.0)
                continue
            if sent == 0:
                await asyncio.sleep(self.poll_seconds)
