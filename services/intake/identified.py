"""Receiving an encounter under the identifier it arrived with (FHIR Encounter.identifier, HL7
visit number): the same path as `POST /v1/encounters`, plus the identifier, so a resend finds
its encounter and another system's identical value is a conflict, not a merge."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.intake import handlers
from services.intake.db import Hospital, IntakeRepository
from services.intake.inbound_db import EncounterIdentifier, InboundRepository
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings


def receive_identified(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    document: EncounterDocument,
    identifier: tuple[str, str],
    source: str,
) -> handlers.Received:
    """`handlers.receive_encounter` for an encounter known by (system, value)."""
    repo = InboundRepository(session)
    system, value = identifier
    if repo.identifier(hospital.id, system, value) is None:
        earlier = IntakeRepository(session).encounter_by_external_id(
            hospital.id, document.external_id
        )
        other = repo.identifier_of(earlier.id) if earlier is not None else None
        if other is not None:
            raise handlers.EncounterConflict(
                f"identifier value {value} already names an encounter under another system"
            )
    received = handlers.receive_encounter(session, settings, hospital, document, None)
    if not received.replayed:
        repo.add(
            EncounterIdentifier(
                encounter_id=received.encounter.id,
                hospital_id=hospital.id,
                system=system,
                value=value,
                source=source,
            )
        )
    return received


def receive_isolated(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    document: EncounterDocument,
    identifier: tuple[str, str],
    source: str,
) -> handlers.Received:
    """`receive_identified` in a savepoint: a conflict undoes this encounter only.

    A concurrent request storing the same encounter first makes this one a replay.
    """
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                received = receive_identified(
                    session, settings, hospital, document, identifier, source
                )
                session.flush()
                return received
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
