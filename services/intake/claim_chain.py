"""Intake follows each claim version of an encounter, and queues billing-caused denials for
the hospital's billing office. Both are idempotent by the `claims.status` event's id."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session

from services.intake.claims_db import BillingWorkItem, ClaimChain, ClaimVersion
from services.intake.db import Encounter, IntakeRepository
from shared.access import Reader, record_access
from shared.events.claims import ClaimStatusChanged
from shared.events.envelope import Envelope
from shared.settings import ChartflowSettings

#: The payer's verdicts: a billing-caused item in one of them is work for the hospital.
VERDICTS = frozenset({"rejected", "denied", "partially_paid", "paid"})


def follow_claim(session: Session, envelope: Envelope, change: ClaimStatusChanged) -> None:
    """Record the step in its claim version's history, and queue what billing must fix."""
    encounter = IntakeRepository(session).encounter_by_key(change.encounter_key)
    if encounter is None:
        return  # another intake deployment's encounter
    chain = ClaimChain(session)
    row = chain.version(change.claim_id) or ClaimVersion(
        claim_id=change.claim_id,
        encounter_key=change.encounter_key,
        hospital_id=encounter.hospital_id,
        status=change.status,
    )
    history = json.loads(row.history)
    if any(step.get("event") == envelope.id for step in history):
        return  # a redelivered event
    history.append(
        {
            "status": change.status,
            "reason": change.reason,
            "at": envelope.time.isoformat(),
            "event": envelope.id,
        }
    )
    row.history = json.dumps(history)
    row.version, row.frequency = change.version, change.frequency
    row.replaces_claim_id, row.payer_claim_id = change.replaces_claim_id, change.payer_claim_id
    row.status, row.reason = change.status, change.reason
    row.total_charge = str(change.total_charge)
    row.paid = str(change.paid) if change.paid is not None else None
    if change.status in VERDICTS:
        row.triage = json.dumps([t.model_dump(mode="json") for t in change.triage])
    row.updated_at = datetime.now(UTC)
    session.add(row)
    _queue_billing_work(session, envelope, change, encounter)


def _queue_billing_work(
    session: Session, envelope: Envelope, change: ClaimStatusChanged, encounter: Encounter
) -> None:
    billing = [t for t in change.triage if t.cause == "billing"]
    if change.status not in VERDICTS or not billing:
        return
    if ClaimChain(session).work_item(envelope.id) is not None:
        return
    session.add(
        BillingWorkItem(
            id=envelope.id,
            hospital_id=encounter.hospital_id,
            encounter_id=encounter.id,
            encounter_key=change.encounter_key,
            claim_id=change.claim_id,
            claim_version=change.version,
            claim_status=change.status,
            items=json.dumps([t.model_dump(mode="json") for t in billing]),
        )
    )


class WorkItemNotFound(LookupError):
    pass


def read_work_queue(
    session: Session,
    settings: ChartflowSettings,
    hospital_id: str,
    route: str,
    status: str | None,
    limit: int,
) -> list[BillingWorkItem]:
    """The hospital's work items (newest first), each read recorded in the access log."""
    items = ClaimChain(session).work_items(hospital_id, status, limit)
    for item in items:
        _recorded(session, settings, hospital_id, item, route)
    return items


def resolve_work_item(
    session: Session, settings: ChartflowSettings, hospital_id: str, item_id: str, route: str
) -> BillingWorkItem:
    """The billing office fixed it: the item leaves the open queue (again: no change)."""
    item = ClaimChain(session).work_item(item_id)
    if item is None or item.hospital_id != hospital_id:
        raise WorkItemNotFound(item_id)
    if item.status != "resolved":
        item.status, item.resolved_at = "resolved", datetime.now(UTC)
        session.add(item)
    return _recorded(session, settings, hospital_id, item, route)


def _recorded(
    session: Session,
    settings: ChartflowSettings,
    hospital_id: str,
    item: BillingWorkItem,
    route: str,
) -> BillingWorkItem:
    record_access(
        session,
        settings,
        Reader(hospital_id, "hospital", hospital_id),
        "work_item.read",
        route,
        tenant=hospital_id,
        encounter_key=item.encounter_key,
        claim_id=item.claim_id,
    )
    return item
