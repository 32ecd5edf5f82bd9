"""Use cases of the HL7 v2 feed: take one message (answer its ACK), and release visits whose
quiet period has passed. A released visit goes through the same path as native JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlmodel import Session, select

from services.intake.db import Hospital, IntakeRepository
from services.intake.domain.hl7_document import encounter_document
from services.intake.domain.hl7_message import Header, Hl7Error, Message, Rejected, ack, normalise
from services.intake.domain.hl7_visit import (
    MessageErrors,
    VisitState,
    merge,
    visit_number,
)
from services.intake.domain.rules import HospitalIntakeSettings
from services.intake.handlers import EncounterConflict
from services.intake.hospital_settings import settings_of
from services.intake.identified import receive_identified
from services.intake.inbound_db import Hl7Message, Hl7Visit, InboundRepository
from shared.settings import ChartflowSettings

log = structlog.get_logger()
VISIT_SYSTEM = "urn:chartflow:hl7:visit-number"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def receive_message(
    session: Session, settings: ChartflowSettings, raw: str, now: datetime | None = None
) -> str:
    """Take one message and return its ACK. A resent control id gets the first ACK again."""
    now = now or datetime.now(UTC)
    text = normalise(raw)
    header = Header.of(text)
    try:
        message = Message(text)
    except Rejected as rejected:
        log.info("hl7.rejected", control_id=header.control_id, errors=str(rejected))
        return ack(header, "AR", rejected.errors)
    repo = InboundRepository(session)
    seen = repo.message(header.sending_facility, header.control_id)
    if seen is not None:
        return seen.ack
    facility = repo.facility(header.sending_facility)
    hospital = IntakeRepository(session).hospital(facility.hospital_id) if facility else None
    if hospital is None:
        error = Hl7Error("MSH^1^4", "204", "MSH-4 sending facility is not set up for any hospital")
        return ack(header, "AR", [error])
    try:
        _apply(session, settings, hospital, message, now)
        code, errors = "AA", []
    except MessageErrors as failed:
        code, errors = "AE", failed.errors
    answer = ack(header, code, errors, now)
    repo.add(
        Hl7Message(
            facility=header.sending_facility,
            control_id=header.control_id,
            ack_code=code,
            ack=answer,
        )
    )
    log.info("hl7.received", control_id=header.control_id, kind="^".join(message.kind), ack=code)
    return answer


def _apply(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    message: Message,
    now: datetime,
) -> None:
    number = visit_number(message)
    query = select(Hl7Visit).where(
        Hl7Visit.hospital_id == hospital.id, Hl7Visit.visit_number == number
    )
    visit = session.exec(query.with_for_update()).first()  # one message of a visit at a time
    if visit is None:
        visit = Hl7Visit(hospital_id=hospital.id, visit_number=number, state="{}")
    if visit.released_encounter_id is not None:
        raise MessageErrors(
            [Hl7Error("PV1^1^19", "206", "the visit was already released to coding")]
        )
    state = VisitState.model_validate_json(visit.state)
    merge(state, message)
    visit.state = state.model_dump_json()
    visit.last_message_at = now
    visit.complete = state.complete
    session.add(visit)
    rules = settings_of(session, hospital.id)
    if visit.complete and rules.hl7.release == "discharge_and_notes":
        _release(session, settings, hospital, rules, visit, state)


def _release(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    rules: HospitalIntakeSettings,
    visit: Hl7Visit,
    state: VisitState,
) -> None:
    try:
        document = encounter_document(state, visit.visit_number, rules.hl7, rules.payers)
        identifier = (VISIT_SYSTEM, visit.visit_number)
        [received] = receive_identified(
            session, settings, hospital, [(document, identifier)], "hl7"
        )
        if isinstance(received, EncounterConflict):
            raise received
    except (MessageErrors, EncounterConflict) as exc:
        visit.complete = False  # Wait for a message that completes (or corrects) it.
        session.add(visit)
        if isinstance(exc, EncounterConflict):
            raise MessageErrors([Hl7Error("PV1^1^19", "205", str(exc))]) from exc
        raise
    visit.released_encounter_id = received.encounter_id
    session.add(visit)
    log.info("hl7.visit_released", encounter=received.encounter_id)


def release_quiet_visits(
    session: Session, settings: ChartflowSettings, now: datetime | None = None
) -> int:
    """Release complete visits of `quiet_period` hospitals once no message came for a while."""
    now = now or datetime.now(UTC)
    released = 0
    repo = InboundRepository(session)
    for visit in repo.quiet_visits(before=now):
        rules = settings_of(session, visit.hospital_id)
        quiet = timedelta(seconds=rules.hl7.quiet_seconds)
        if rules.hl7.release != "quiet_period" or _aware(visit.last_message_at) > now - quiet:
            continue
        hospital = IntakeRepository(session).hospital(visit.hospital_id)
        if hospital is None:
            continue
        state = VisitState.model_validate_json(visit.state)
        try:
            with session.begin_nested():
                _release(session, settings, hospital, rules, visit, state)
            released += 1
        except MessageErrors as failed:
            log.warning("hl7.visit_incomplete", visit=visit.id, errors=len(failed.errors))
    return released
