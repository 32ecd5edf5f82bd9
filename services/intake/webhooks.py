"""Use cases of hospital webhooks: register (the signing secret is shown once), list, remove,
and read the deliveries with their attempts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session

from services.intake.outbound_db import (
    OutboundRepository,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from shared.http import new_secret


def register(session: Session, hospital_id: str, url: str, events: list[str]) -> Webhook:
    webhook = Webhook(
        hospital_id=hospital_id,
        url=url,
        events=json.dumps(sorted(set(events))),
        secret=new_secret("whsec"),
    )
    OutboundRepository(session).add(webhook)
    return webhook


def remove(session: Session, hospital_id: str, webhook_id: str) -> bool:
    """Stop deliveries to the webhook (what was delivered stays readable)."""
    repo = OutboundRepository(session)
    webhook = repo.webhook(hospital_id, webhook_id)
    if webhook is None or not webhook.active:
        return False
    webhook.active = False
    repo.add(webhook)
    return True


@dataclass
class DeliveryRecord:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


def deliveries(
    session: Session, hospital_id: str, webhook_id: str, limit: int
) -> list[DeliveryRecord] | None:
    repo = OutboundRepository(session)
    if repo.webhook(hospital_id, webhook_id) is None:
        return None
    rows = repo.deliveries(webhook_id, limit)
    attempts = repo.attempts([r.seq for r in rows if r.seq is not None])
    return [DeliveryRecord(r, [a for a in attempts if a.delivery_seq == r.seq]) for r in rows]
