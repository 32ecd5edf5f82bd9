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
from services.intake.identified import receive_identified, receive_isolated
from shared.settings import ChartflowSettings


def store_encounters(
    session: Session, settings: ChartflowSettings, hospital: Hospital, read: ReadRequest
) -> dict[MappedEncounter, Stored]:
    """Store every picked, valid encounter. A transaction (or a lone Encounter) is all or
    nothing: a conflict raises `FhirError` and the caller's transaction stores nothing."""
    atomic = read.kind in ("transaction", "encounter")
    receive = receive_identified if atomic else receive_isolated
    stored: dict[MappedEncounter, Stored] = {}
    for mapped in read.encounters:
        if mapped.document is None or mapped.identifier is None or mapped.failed:
            continue
        try:
            received = receive(
                session, settings, hospital, mapped.document, mapped.identifier, "fhir"
            )
        except EncounterConflict as exc:
            issue = Issue("conflict", mapped.entry.at("identifier"), str(exc))
            if atomic:
                raise FhirError(409, [issue]) from exc
            stored[mapped] = Stored(None, conflict=issue)
            continue
        stored[mapped] = Stored(received.encounter.id, created=not received.replayed)
    return stored
