"""Use case of FHIR intake: store the encounters a read Bundle picked, each under its
identifier, through the same path as native JSON (outbox, idempotency)."""

from __future__ import annotations

from sqlmodel import Session

from services.intake.db import Hospital
from services.intake.domain.fhir_assembly import MappedEncounter
from services.intake.domain.fhir_mapping import ReadRequest
from services.intake.domain.fhir_response import Stored
from services.intake.domain.outcome import FhirError, Issue
from services.intake.handlers import EncounterConflict
from services.intake.identified import receive_identified
from shared.settings import ChartflowSettings


def store_encounters(
    session: Session, settings: ChartflowSettings, hospital: Hospital, read: ReadRequest
) -> dict[MappedEncounter, Stored]:
    """Store every picked, valid encounter in one batch. A transaction (or a lone Encounter)
    is all or nothing: a conflict raises `FhirError` and the caller's transaction stores
    nothing; a batch reports it in the encounter's entry."""
    picked = [m for m in read.encounters if m.document and m.identifier and not m.failed]
    items = [(m.document, m.identifier) for m in picked if m.document and m.identifier]
    results = receive_identified(session, settings, hospital, items, "fhir")
    stored: dict[MappedEncounter, Stored] = {}
    for mapped, result in zip(picked, results, strict=True):
        if isinstance(result, EncounterConflict):
            issue = Issue("conflict", mapped.entry.at("identifier"), str(result))
            if read.kind in ("transaction", "encounter"):
                raise FhirError(409, [issue]) from result
            stored[mapped] = Stored(None, conflict=issue)
        else:
            stored[mapped] = Stored(result.encounter_id, created=not result.replayed)
    return stored
