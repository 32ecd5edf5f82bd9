"""Use case of FHIR read-back: gather what intake keeps of an encounter (document, identifier,
codes, claim status) into the record the FHIR builders read."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from services.intake.db import Encounter, Hospital, IntakeRepository
from services.intake.domain.fhir_readback import EncounterRecord
from services.intake.inbound_db import InboundRepository
from services.intake.outbound_db import OutboundRepository
from shared.events.intake import EncounterDocument

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
        claim_status=row.claim_status,
        claim_reason=row.claim_reason,
        claim_total=row.claim_total,
        claim_paid=row.claim_paid,
        provider_name=hospital.name,
        provider_npi=hospital.npi,
    )


def encounter_record(
    session: Session, hospital: Hospital, encounter_id: str
) -> EncounterRecord | None:
    row = IntakeRepository(session).encounter(hospital.id, encounter_id)
    return record_of(session, hospital, row) if row else None


def claim_record(session: Session, hospital: Hospital, claim_id: str) -> EncounterRecord | None:
    query = select(Encounter).where(
        Encounter.hospital_id == hospital.id, Encounter.claim_id == claim_id
    )
    row = session.exec(query).first()
    return record_of(session, hospital, row) if row else None
