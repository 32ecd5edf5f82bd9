"""Sends queued webhook deliveries: signed, one at a time per webhook and encounter (in order),
retried with exponential backoff, every attempt recorded. A delivery past its last attempt is
`failed`, and the encounter's next event goes out."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlmodel import Session

from services.intake.domain.webhooks import SIGNATURE_HEADER, retry_delay, signature
from services.intake.outbound_db import OutboundRepository, Webhook, WebhookAttempt, WebhookDelivery
from services.intake.settings import IntakeSettings
from shared.service import Runtime

log = structlog.get_logger()


@dataclass(frozen=True)
class Due:
    seq: int
    id: str
    event_type: str
    payload: str
    attempt: int
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    seq: int
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def take_due(
    session: Session, settings: IntakeSettings, now: datetime, limit: int = 50
) -> list[Due]:
    """Claim due deliveries: their next try moves past the send timeout, so no one else takes
    them meanwhile (a crash mid-send means one more try later, never a lost delivery)."""
    repo = OutboundRepository(session)
    taken = []
    lease = now + timedelta(seconds=settings.webhook_timeout_seconds * 3)
    for delivery in repo.due(now, limit):
        webhook = session.get(Webhook, delivery.webhook_id)
        if webhook is None or not webhook.active:
            delivery.status = "failed"
            session.add(delivery)
            continue
        assert delivery.seq is not None
        taken.append(
            Due(delivery.seq, delivery.id, delivery.event_type, delivery.payload,
                delivery.attempts + 1, webhook.url, webhook.secret)
        )  # fmt: skip
        delivery.next_attempt_at = lease
        session.add(delivery)
    return taken


def record(
    session: Session, settings: IntakeSettings, outcomes: list[Outcome], now: datetime
) -> None:
    """Store each attempt; delivered, or tried again later, or failed after the last try."""
    for outcome in outcomes:
        delivery = session.get(WebhookDelivery, outcome.seq)
        if delivery is None:
            continue
        delivery.attempts += 1
        session.add(
            WebhookAttempt(
                delivery_seq=outcome.seq,
                attempted_at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        if outcome.delivered:
            delivery.status, delivery.delivered_at = "delivered", now
        elif delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = "failed"
        else:
            delay = retry_delay(
                delivery.attempts,
                settings.webhook_retry_base_seconds,
                settings.webhook_retry_max_seconds,
            )
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        session.add(delivery)


async def send(client: httpx.AsyncClient, due: Due) -> Outcome:
    body = due.payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Chartflow-Webhooks/1",
        "Chartflow-Event-Id": due.id,
        "Chartflow-Event-Type": due.event_type,
        "Chartflow-Delivery-Attempt": str(due.attempt),
        SIGNATURE_HEADER: signature(due.secret, int(time.time()), body),
    }
    started = time.perf_counter()
    status, error = None, None
    try:
        status = (await client.post(due.url, content=body, headers=headers)).status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except httpx.HTTPError as exc:
        error = type(exc).__name__  # the kind only: a receiver's answer is not ours to keep
    duration = int((time.perf_counter() - started) * 1000)
    return Outcome(due.seq, status, error, duration)


async def deliver_due(rt: Runtime, settings: IntakeSettings, client: httpx.AsyncClient) -> int:
    """Send what is due (different encounters at once); the number of deliveries tried."""
    due = await rt.db.run(lambda s: take_due(s, settings, datetime.now(UTC)))
    if not due:
        return 0
    outcomes = await asyncio.gather(*(send(client, d) for d in due))
    await rt.db.run(lambda s: record(s, settings, list(outcomes), datetime.now(UTC)))
    failed = sum(1 for o in outcomes if not o.delivered)
    log.info("webhooks.sent", deliveries=len(due), failed=failed)
    return len(due)


async def run_deliveries(rt: Runtime, settings: IntakeSettings, idle_seconds: float = 0.2) -> None:
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
        while True:
            if not await deliver_due(rt, settings, client):
                await asyncio.sleep(idle_seconds)
