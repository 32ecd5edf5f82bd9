"""Tables of what goes back to hospitals: the codes of each coded encounter (for FHIR read-back),
their webhooks, and every delivery with its attempts (a durable, outbox-like queue)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, exists
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


class EncounterCodes(SQLModel, table=True):
    """The codes an encounter was coded with (from `encounters.coded`)."""

    __tablename__ = "encounter_codes"

    encounter_id: str = Field(primary_key=True, max_length=64)
    diagnoses: str  # JSON list of {code, poa}
    procedures: str  # JSON list of {code, modifiers, units, dx_pointers}
    coded_at: datetime = Field(default_factory=_now)


class Webhook(SQLModel, table=True):
    __tablename__ = "webhook"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    hospital_id: str = Field(index=True, max_length=64)
    url: str = Field(max_length=2000)
    events: str  # JSON list of event names
    secret: str = Field(sa_type=EncryptedText)  # signs deliveries; shown once at registration
    active: bool = True
    created_at: datetime = Field(default_factory=_now)


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook. `seq` orders an encounter's deliveries."""

    __tablename__ = "webhook_delivery"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), unique=True, max_length=64)
    webhook_id: str = Field(index=True, max_length=64)
    encounter_id: str = Field(max_length=64)
    event_type: str = Field(max_length=40)
    payload: str  # JSON body as sent: ids and statuses only, no PHI
    status: str = Field(default="pending", index=True, max_length=10)  # pending|delivered|failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=_now, index=True)
    created_at: datetime = Field(default_factory=_now)
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_seq: int = Field(index=True)
    attempted_at: datetime = Field(default_factory=_now)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=200)  # the failure's kind, never a body
    duration_ms: int = 0


OUTBOUND_TABLES = (EncounterCodes, Webhook, WebhookDelivery, WebhookAttempt)


class OutboundRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def codes(self, encounter_id: str) -> EncounterCodes | None:
        return self.session.get(EncounterCodes, encounter_id)

    def webhooks(self, hospital_id: str, active_only: bool = True) -> list[Webhook]:
        query = select(Webhook).where(Webhook.hospital_id == hospital_id)
        if active_only:
            query = query.where(col(Webhook.active).is_(True))
        return list(self.session.exec(query.order_by(col(Webhook.created_at))))

    def webhook(self, hospital_id: str, webhook_id: str) -> Webhook | None:
        row = self.session.get(Webhook, webhook_id)
        return row if row is not None and row.hospital_id == hospital_id else None

    def deliveries(self, webhook_id: str, limit: int) -> list[WebhookDelivery]:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(col(WebhookDelivery.seq).desc())
            .limit(limit)
        )
        return list(self.session.exec(query))

    def attempts(self, seqs: list[int]) -> list[WebhookAttempt]:
        query = (
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_seq).in_(seqs))
            .order_by(col(WebhookAttempt.id))
        )
        return list(self.session.exec(query))

    def due(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        """Pending deliveries due now, each the first pending one of its webhook and encounter
        (a later event waits for the earlier ones). Locked until commit; others skip them."""
        earlier = aliased(WebhookDelivery)
        blocked = exists().where(
            and_(
                col(earlier.webhook_id) == col(WebhookDelivery.webhook_id),
                col(earlier.encounter_id) == col(WebhookDelivery.encounter_id),
                col(earlier.status) == "pending",
                col(earlier.seq) < col(WebhookDelivery.seq),
            )
        )
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                ~blocked,
            )
            .order_by(col(WebhookDelivery.seq))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.exec(query))
