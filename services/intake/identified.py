"""Receiving encounters under the identifier they arrived with (FHIR Encounter.identifier, HL7
visit number): the same path as `POST /v1/encounters`, plus the identifier, so a resend finds
its encounter and another system's identical value is a conflict, not a merge."""

from __future__ import annotations

from sqlalchemy import insert
from sqlmodel import Session

from services.intake import handlers
from services.intake.db import Hospital, IntakeRepository
from services.intake.inbound_db import EncounterIdentifier
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings

Identified = tuple[EncounterDocument, tuple[str, str]]  # a document and its (system, value)


def receive_identified(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    items: list[Identified],
    source: str,
) -> list[handlers.Taken | handlers.EncounterConflict]:
    """`handlers.receive_encounters` for encounters known by (system, value), in one batch.

    The external id derives from the identifier, so an encounter stored under that external id
    with another identifier is a conflict.
    """
    stored = IntakeRepository(session).identifiers_by_external_id(
        hospital.id, [document.external_id for document, _ in items]
    )
    results: list[handlers.Taken | handlers.EncounterConflict | None] = [None] * len(items)
    todo = []
    for n, (document, identifier) in enumerate(items):
        earlier = stored.get(document.external_id)
        if earlier is not None and earlier != identifier:
            results[n] = handlers.EncounterConflict(
                "the identifier value already names an encounter under another system"
            )
        else:
            todo.append(n)
    taken = handlers.receive_encounters(session, settings, hospital, [items[n][0] for n in todo])
    rows = []
    for n, result in zip(todo, taken, strict=True):
        results[n] = result
        if isinstance(result, handlers.Taken) and not result.replayed:
            system, value = items[n][1]
            rows.append(
                {
                    "encounter_id": result.encounter_id,
                    "hospital_id": hospital.id,
                    "system": system,
                    "value": value,
                    "source": source,
                }
            )
    if rows:
        session.connection().execute(insert(EncounterIdentifier.__table__), rows)  # type: ignore[attr-defined]
    return [r for r in results if r is not None]
