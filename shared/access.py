"""PHI access records: every read of PHI appends one, in the read's own transaction.

The record goes to the service's outbox, and from there to the `access.log` topic, which
intake stores (append-only) and serves to admins and, for their own encounters, to hospitals.
A read whose record cannot be stored fails: nobody reads PHI without a trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from shared.events import topics
from shared.events.access import PhiAccessed, Role
from shared.events.envelope import Envelope
from shared.outbox import add_to_outbox
from shared.settings import ChartflowSettings


@dataclass(frozen=True)
class Reader:
    """Who reads: a person or system, its role, and the organisation it belongs to."""

    actor: str
    role: Role
    org: str | None = None


#: The holder of the admin token (one shared identity until admins have their own accounts).
ADMIN = Reader("admin", "admin")


def record_access(
    session: Session,
    settings: ChartflowSettings,
    reader: Reader,
    action: str,
    route: str,
    *,
    tenant: str | None = None,
    encounter_key: str | None = None,
    claim_id: str | None = None,
) -> None:
    """Append one access record for a read of `tenant`'s PHI (an encounter or a claim)."""
    accessed = PhiAccessed(
        actor=reader.actor,
        role=reader.role,
        actor_org=reader.org,
        tenant=tenant,
        action=action,
        encounter_key=encounter_key,
        claim_id=claim_id,
        route=route,
        service=settings.service_name,
        at=datetime.now(UTC),
    )
    envelope = Envelope.wrap(
        accessed,
        source=settings.service_name,
        subject=encounter_key or settings.service_name,
        tenant=tenant or "",
    )
    add_to_outbox(session, settings.topic(topics.ACCESS_LOG), envelope)
