"""Use case of FHIR read-back: gather what intake keeps of an encounter (document, identifier,
codes, claim status) into the record the FHIR builders read; every read that returns one is
recorded in the PHI access log, as `GET /v1/encounters` reads are."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from services.intake import handlers
from services.intake.db import Encounter, Hospital, IntakeRepository
from services.intake.domain.fhir_readback import EncounterRecord
from services.intake.inbound_db import InboundRepository
from services.intake.outbound_db import OutboundRepository
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings

EXTERNAL_ID_SYSTEM = "urn:chartflow:external-id"


def record_of(session: Session, hospital: Hospital, row: Encounter) -> EncounterRecord:
    identifier = InboundRepository(session).identifier_of(row.id)
    codes = OutboundRepository(session).codes(row.id)
    return EncounterRecord(
        id=row.id,
        status=row.status,
        document=EncounterDocument.model_validate_json(row.document),
        identifier=(identifier.system, identifier.value)
        if identifier
        else (EXTERNAL_ID_SYSTEM, row.external_id),
        received_at=row.received_at,
        diagnoses=json.loads(codes.diagnoses) if codes else [],
        procedures=json.loads(codes.procedures) if codes else [],
        claim_id=row.claim_id,
        claim_pcn=row.claim_pcn,
        claim_status=row.claim_status,
        claim_reason=row.claim_reason,
        claim_total=row.claim_total,
        claim_paid=row.claim_paid,
        # "<reason>: <note>" as stored; the code alone (the note may quote the chart)
        return_reason=row.return_reason.split(":")[0] if row.return_reason else None,
        provider_name=hospital.name,
        provider_npi=hospital.npi,
    )


def read_encounter(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    route: str,
    encounter_id: str,
    *,
    claimed: bool = False,
) -> EncounterRecord | None:
    """The hospital's encounter (`claimed`: only once it has a claim), its read recorded."""
    row = IntakeRepository(session).encounter(hospital.id, encounter_id)
    if row is None or (claimed and row.claim_id is None):
        return None
    return _recorded(session, settings, hospital, route, row, claimed)


def read_claim(
    session: Session, settings: ChartflowSettings, hospital: Hospital, route: str, claim_id: str
) -> EncounterRecord | None:
    """The hospital's encounter whose claim this is, its read recorded."""
    query = select(Encounter).where(
        Encounter.hospital_id == hospital.id, Encounter.claim_id == claim_id
    )
    row = session.exec(query).first()
    return _recorded(session, settings, hospital, route, row, True) if row else None


def _recorded(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    route: str,
    row: Encounter,
    claim: bool,
) -> EncounterRecord:
    if claim:
        handlers.record_read(session, settings, hospital, route, row, "claim.read", row.claim_id)
    else:
        handlers.record_read(session, settings, hospital, route, row)
    return record_of(session, hospital, row)
