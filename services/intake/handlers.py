"""Intake use cases: register hospitals, receive encounters, follow them to their claim, keep
the platform's PHI access log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import insert
from sqlmodel import Session

from services.intake import SERVICE, results
from services.intake.access_db import AccessLog, AccessRecord
from services.intake.claim_chain import follow_claim
from services.intake.db import Encounter, Hospital, IntakeRepository
from services.intake.scorecard_db import HospitalScorecard, ScorecardRepository
from shared.access import Reader, record_access
from shared.events import topics
from shared.events.access import PhiAccessed
from shared.events.assignment import EncounterCoded, EncounterReturned
from shared.events.claims import ClaimStatusChanged
from shared.events.coding import HospitalScorecardPublished
from shared.events.envelope import Envelope
from shared.events.intake import (
    Address,
    BillingProvider,
    EncounterDocument,
    EncounterReceived,
)
from shared.http import hash_secret, new_secret
from shared.outbox import add_many_to_outbox, add_to_outbox, claim_event
from shared.settings import ChartflowSettings


class EncounterConflict(Exception):
    """The hospital re-sent an external id with different content."""


@dataclass
class Received:
    encounter: Encounter
    replayed: bool


def register_hospital(
    session: Session,
    hospital_id: str,
    name: str,
    npi: str,
    tax_id: str,
    address: Address,
    cdi_contact: str | None = None,
) -> str:
    """Create the hospital (or rotate its key) and return its API key, shown only once."""
    api_key = new_secret("hk")
    repo = IntakeRepository(session)
    hospital = repo.hospital(hospital_id) or Hospital(
        id=hospital_id, name=name, npi=npi, tax_id=tax_id, address="", api_key_hash=""
    )
    hospital.name, hospital.npi, hospital.tax_id = name, npi, tax_id
    hospital.address = address.model_dump_json()
    hospital.cdi_contact = cdi_contact
    hospital.api_key_hash = hash_secret(api_key)
    repo.add(hospital)
    return api_key


def receive_encounter(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    document: EncounterDocument,
    idempotency_key: str | None,
) -> Received:
    """Store the encounter and its `encounters.received` event in one transaction."""
    repo = IntakeRepository(session)
    if idempotency_key:
        earlier = repo.encounter_by_idempotency_key(hospital.id, idempotency_key)
        if earlier is not None:
            if EncounterDocument.model_validate_json(earlier.document) != document:
                raise EncounterConflict(
                    f"Idempotency-Key {idempotency_key} was already used for another encounter"
                )
            return Received(earlier, replayed=True)
    existing = repo.encounter_by_external_id(hospital.id, document.external_id)
    if existing is not None:
        _check_same(existing.document, document)
        return Received(existing, replayed=True)
    row, envelope = _new_encounter(hospital, document, idempotency_key, billing_provider(hospital))
    encounter = Encounter(**row)
    repo.add(encounter)
    add_to_outbox(session, settings.topic(topics.ENCOUNTERS_RECEIVED), envelope)
    return Received(encounter, replayed=False)


@dataclass
class Taken:
    encounter_id: str
    replayed: bool


def receive_encounters(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    documents: list[EncounterDocument],
) -> list[Taken | EncounterConflict]:
    """`receive_encounter` for many documents at once (bulk files): the same checks, rows and
    events, with one lookup for all and the rows written by two batched inserts."""
    repo = IntakeRepository(session)
    stored = repo.encounters_by_external_ids(hospital.id, [d.external_id for d in documents])
    known = {external_id: (row.id, row.document) for external_id, row in stored.items()}
    topic = settings.topic(topics.ENCOUNTERS_RECEIVED)
    billing = billing_provider(hospital)
    rows: list[dict[str, Any]] = []
    events: list[Envelope] = []
    results: list[Taken | EncounterConflict] = []
    for document in documents:
        earlier = known.get(document.external_id)
        if earlier is not None:
            try:
                _check_same(earlier[1], document)
            except EncounterConflict as conflict:
                results.append(conflict)
                continue
            results.append(Taken(earlier[0], replayed=True))
            continue
        row, envelope = _new_encounter(hospital, document, None, billing)
        rows.append(row)
        events.append(envelope)
        known[document.external_id] = (row["id"], row["document"])
        results.append(Taken(row["id"], replayed=False))
    if rows:  # Core inserts: the same rows without building an ORM object per row
        session.connection().execute(insert(Encounter.__table__), rows)  # type: ignore[attr-defined]
        add_many_to_outbox(session, topic, events)
    return results


def _check_same(stored: str, document: EncounterDocument) -> None:
    if EncounterDocument.model_validate_json(stored) != document:
        raise EncounterConflict(
            f"encounter {document.external_id} was already received with other content"
        )


def billing_provider(hospital: Hospital) -> BillingProvider:
    return BillingProvider(
        name=hospital.name,
        npi=hospital.npi,
        tax_id=hospital.tax_id,
        address=Address.model_validate_json(hospital.address),
    )


def _new_encounter(
    hospital: Hospital,
    document: EncounterDocument,
    idempotency_key: str | None,
    billing: BillingProvider,
) -> tuple[dict[str, Any], Envelope]:
    """The encounter row of a new document and its `encounters.received` event."""
    encounter_id = str(uuid.uuid4())
    encounter_key = f"{hospital.id}:{document.external_id}"
    row = {
        "id": encounter_id,
        "hospital_id": hospital.id,
        "external_id": document.external_id,
        "encounter_key": encounter_key,
        "idempotency_key": idempotency_key,
        "encounter_class": document.encounter_class,
        "document": document.model_dump_json(),
    }
    event = EncounterReceived(
        encounter_key=encounter_key,
        hospital_id=hospital.id,
        billing_provider=billing,
        encounter=document,
    )
    envelope = Envelope.wrap(
        event, source=SERVICE, subject=encounter_key, tenant=hospital.id, id=encounter_id
    )
    return row, envelope


def record_coded(session: Session, envelope: Envelope) -> None:
    coded = envelope.payload(EncounterCoded)
    encounter = _update(session, envelope, coded.encounter_key, status="coded")
    if encounter is not None:
        results.on_coded(session, encounter, coded, envelope.time)


def record_returned(session: Session, envelope: Envelope) -> None:
    """A coder could not code the encounter: the hospital sees `returned` and why."""
    returned = envelope.payload(EncounterReturned)
    reason = returned.reason + (f": {returned.note}" if returned.note else "")
    encounter = _update(
        session, envelope, returned.encounter_key, status="returned", return_reason=reason
    )
    if encounter is not None:
        results.on_returned(session, encounter, returned.reason, envelope.time)


def record_claim_status(session: Session, envelope: Envelope) -> None:
    change = envelope.payload(ClaimStatusChanged)
    fields = {
        "status": f"claim_{change.status}",
        "claim_id": change.claim_id,
        "claim_pcn": change.patient_control_number,
        "claim_status": change.status,
        "claim_reason": change.reason,
        "claim_findings": json.dumps([f.model_dump() for f in change.findings]),
        "claim_total": str(change.total_charge),
    }
    if change.paid is not None:
        fields["claim_paid"] = str(change.paid)
    step = {"status": change.status, "reason": change.reason, "at": envelope.time.isoformat()}
    encounter = _update(session, envelope, change.encounter_key, history_step=step, **fields)
    if encounter is not None:
        results.on_claim_status(session, encounter, change, envelope.time)
    follow_claim(session, envelope, change)


def _update(
    session: Session,
    envelope: Envelope,
    encounter_key: str,
    history_step: dict[str, str] | None = None,
    **fields: str,
) -> Encounter | None:
    """The encounter updated by the event; None when the event was seen before or not ours."""
    if not claim_event(session, "intake", envelope.id):
        return None
    encounter = IntakeRepository(session).encounter_by_key(encounter_key)
    if encounter is None:
        return None  # Not ours (another intake deployment's encounter): nothing to show.
    if fields.get("status") == "coded" and encounter.claim_status is not None:
        fields.pop("status")  # A claim outcome already arrived; keep the later status.
    for name, value in fields.items():
        setattr(encounter, name, value)
    if history_step:
        encounter.claim_history = json.dumps([*json.loads(encounter.claim_history), history_step])
    encounter.updated_at = datetime.now(UTC)
    session.add(encounter)
    return encounter


def read_encounters(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    route: str,
    *,
    encounter_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Encounter]:
    """The hospital's encounter (or a page of them), each read recorded in the access log."""
    repo = IntakeRepository(session)
    if encounter_id is not None:
        row = repo.encounter(hospital.id, encounter_id)
        rows = [row] if row is not None else []
    else:
        rows = repo.encounters(hospital.id, limit, status)
    record_reads(session, settings, hospital, "encounter.read", route, rows)
    return rows


class HasEncounterKey(Protocol):
    @property
    def encounter_key(self) -> str: ...


def record_reads(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    action: str,
    route: str,
    rows: Iterable[HasEncounterKey],
    claim_id: str | None = None,
) -> None:
    """One access record per row the hospital reads (an encounter, a query on one, a claim)."""
    reader = Reader(hospital.id, "hospital", hospital.id)
    for row in rows:
        record_access(
            session,
            settings,
            reader,
            action,
            route,
            tenant=hospital.id,
            encounter_key=row.encounter_key,
            claim_id=claim_id,
        )


def record_read(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    route: str,
    row: Encounter,
    action: str = "encounter.read",
    claim_id: str | None = None,
) -> None:
    """One access record for the hospital's read of its encounter (or of its claim)."""
    record_reads(session, settings, hospital, action, route, [row], claim_id)


def store_access(session: Session, envelope: Envelope) -> None:
    """Append a record from `access.log` once (the topic is delivered at least once)."""
    accessed = envelope.payload(PhiAccessed)
    log = AccessLog(session)
    if log.has(envelope.id):
        return
    log.append(AccessRecord(event_id=envelope.id, **accessed.model_dump()))


def store_scorecard(session: Session, envelope: Envelope) -> None:
    """`coding.scorecards`: keep the newest figures of each hospital's month."""
    if not claim_event(session, SERVICE, envelope.id):
        return
    published = envelope.payload(HospitalScorecardPublished)
    vendors = json.dumps([v.model_dump() for v in published.vendors])
    ScorecardRepository(session).keep_newest(
        HospitalScorecard(
            hospital_id=published.hospital_id,
            period=published.period,
            as_of=published.as_of,
            vendors=vendors,
        )
    )
