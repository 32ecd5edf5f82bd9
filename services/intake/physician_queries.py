"""Physician queries, the hospital's side: they arrive from coding, reminders and escalations
from the coding workflow; the physician's answer goes back as an event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlmodel import Session

from services.intake import SERVICE
from services.intake.db import Hospital, HospitalQuery, IntakeRepository
from services.intake.domain.answers import Option, answer_problems
from services.intake.handlers import record_reads
from shared.events import topics
from shared.events.assignment import (
    EncounterCancelled,
    EncounterEscalated,
    QueryEscalated,
    QueryReminded,
)
from shared.events.coding import QueryContent, QueryRaised, QueryWithdrawn
from shared.events.envelope import Envelope
from shared.events.intake import PhysicianAnswer, QueryAnswered
from shared.outbox import add_to_outbox, claim_event
from shared.settings import ChartflowSettings

log = structlog.get_logger()
NO_CDI_CONTACT = "the hospital (no CDI contact registered)"


class QueryNotFound(Exception):
    pass


class QueryClosed(Exception):
    def __init__(self, query_id: str, status: str) -> None:
        super().__init__(f"query {query_id} is {status}: it takes no answer")


class AnswerDoesNotFit(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = problems


def record_query(session: Session, envelope: Envelope) -> None:
    """`physician.queries`: a query for the hospital to answer, or one the coder withdrew."""
    if not claim_event(session, SERVICE, envelope.id):
        return
    repo = IntakeRepository(session)
    if envelope.type == QueryWithdrawn.event_type:
        withdrawn = envelope.payload(QueryWithdrawn)
        query = repo.query_by_id(withdrawn.query_id)
        if query is not None and query.status == "open":
            query.status, query.closed_at = "withdrawn", withdrawn.withdrawn_at
            repo.add(query)
        return
    raised = envelope.payload(QueryRaised)
    if repo.query_by_id(raised.query_id) is None:
        repo.add(
            HospitalQuery(
                id=raised.query_id,
                hospital_id=raised.hospital_id,
                encounter_key=raised.encounter_key,
                format=raised.format,
                yes_no_use=raised.yes_no_use,
                content=raised.content.model_dump_json(),
                raised_at=raised.raised_at,
            )
        )


def record_follow_up(session: Session, envelope: Envelope) -> None:
    """`assignment.events`: query reminders and escalations, cancelled encounters."""
    if not claim_event(session, SERVICE, envelope.id):
        return
    repo = IntakeRepository(session)
    if envelope.type == QueryReminded.event_type:
        reminded = envelope.payload(QueryReminded)
        query = repo.query_by_id(reminded.query_id)
        if query is not None:
            query.reminders_sent = max(query.reminders_sent, reminded.reminder)
            query.last_reminded_at = envelope.time
            repo.add(query)
    elif envelope.type == QueryEscalated.event_type:
        escalated = envelope.payload(QueryEscalated)
        query = repo.query_by_id(escalated.query_id)
        if query is not None:
            hospital = repo.hospital(query.hospital_id)
            query.escalated_at = envelope.time
            query.escalated_to = (hospital.cdi_contact if hospital else None) or NO_CDI_CONTACT
            repo.add(query)
            log.info("query.escalated_to_cdi", query=query.id, hospital=query.hospital_id)
    elif envelope.type == EncounterCancelled.event_type:
        _cancelled(repo, envelope.payload(EncounterCancelled))
    else:
        # An SLA escalation is the vendor's to resolve; the hospital's view does not change.
        envelope.payload(EncounterEscalated)


def _cancelled(repo: IntakeRepository, cancelled: EncounterCancelled) -> None:
    encounter = repo.encounter_by_key(cancelled.encounter_key)
    now = datetime.now(UTC)
    if encounter is not None:
        encounter.status, encounter.updated_at = "cancelled", now
        repo.add(encounter)
    for query in repo.open_queries_of(cancelled.encounter_key):
        query.status, query.closed_at = "cancelled", now
        repo.add(query)


def read_queries(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    route: str,
    status: str | None,
    limit: int,
) -> list[HospitalQuery]:
    """The hospital's queries; each read is an access record."""
    rows = IntakeRepository(session).queries(hospital.id, status, limit)
    record_reads(session, settings, hospital, "query.read", route, rows)
    return rows


def read_query(
    session: Session, settings: ChartflowSettings, hospital: Hospital, route: str, query_id: str
) -> HospitalQuery | None:
    row = IntakeRepository(session).query(hospital.id, query_id)
    if row is not None:
        record_reads(session, settings, hospital, "query.read", route, [row])
    return row


def answer_query(
    session: Session,
    settings: ChartflowSettings,
    hospital: Hospital,
    query_id: str,
    npi: str,
    answer: PhysicianAnswer,
    route: str,
) -> HospitalQuery:
    """Record the physician's answer and announce it (it becomes an addendum on the chart);
    the query shown back is a read."""
    repo = IntakeRepository(session)
    query = repo.query(hospital.id, query_id)
    if query is None:
        raise QueryNotFound(query_id)
    if query.status != "open":
        raise QueryClosed(query_id, query.status)
    content = QueryContent.model_validate_json(query.content)
    options = [Option(o.text, o.kind) for o in content.options]
    problems = answer_problems(options, answer.choice, answer.text)
    if problems:
        raise AnswerDoesNotFit(problems)
    query.status, query.closed_at = "answered", datetime.now(UTC)
    query.answered_by_npi, query.answer = npi, answer.model_dump_json()
    repo.add(query)
    answered = QueryAnswered(
        query_id=query.id,
        encounter_key=query.encounter_key,
        hospital_id=hospital.id,
        answered_by_npi=npi,
        answered_at=query.closed_at,
        answer=answer,
    )
    envelope = Envelope.wrap(
        answered,
        source=SERVICE,
        subject=query.encounter_key,
        tenant=hospital.id,
        id=f"query-answered-{query.id}",
    )
    add_to_outbox(session, settings.topic(topics.QUERY_ANSWERS), envelope)
    record_reads(session, settings, hospital, "query.read", route, [query])
    return query


def query_view(query: HospitalQuery) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    answer = PhysicianAnswer.model_validate_json(query.answer) if query.answer else None
    return {
        "id": query.id,
        "encounter_key": query.encounter_key,
        "format": query.format,
        "yes_no_use": query.yes_no_use,
        "status": query.status,
        "raised_at": at(query.raised_at),
        "reminders_sent": query.reminders_sent,
        "last_reminded_at": at(query.last_reminded_at),
        "escalated_at": at(query.escalated_at),
        "escalated_to": query.escalated_to,
        "closed_at": at(query.closed_at),
        **QueryContent.model_validate_json(query.content).model_dump(mode="json"),
        "answer": (
            {**answer.model_dump(mode="json"), "answered_by_npi": query.answered_by_npi}
            if answer
            else None
        ),
    }
