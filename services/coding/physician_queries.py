"""Physician queries, the coder's side: raise one (refused with reasons unless compliant),
withdraw it, and take the hospital's answer onto the chart as an addendum."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from services.coding import SERVICE
from services.coding.db import Coder, CodingRepository, PhysicianQuery
from services.coding.domain.queries import QueryDraft, check_query, offered_options
from services.coding.handlers import (
    TaskClosed,
    TaskNotWorkable,
    own_task,
    read_chart,
    reader,
    refresh_tasks,
)
from shared.access import record_access
from shared.events import topics
from shared.events.coding import (
    QueryContent,
    QueryIndicator,
    QueryOption,
    QueryRaised,
    QueryWithdrawn,
)
from shared.events.envelope import Envelope, EventData
from shared.events.intake import PhysicianAnswer, QueryAnswered
from shared.outbox import add_to_outbox, claim_event
from shared.settings import ChartflowSettings


class QueryRefused(Exception):
    def __init__(self, refusals: list[dict[str, str]]) -> None:
        super().__init__(f"{len(refusals)} reason(s) the query may not be sent")
        self.refusals = refusals


class QueryNotFound(Exception):
    pass


class QueryClosed(Exception):
    def __init__(self, query_id: str, status: str) -> None:
        super().__init__(f"query {query_id} is {status}")


def raise_query(
    session: Session, settings: ChartflowSettings, coder: Coder, task_id: str, draft: QueryDraft
) -> PhysicianQuery:
    """Check the draft against the chart the coder was given; send it when compliant."""
    repo = CodingRepository(session)
    task = own_task(repo, coder, task_id)
    if task.status in ("submitted", "returned"):
        raise TaskClosed(task_id)
    if task.status not in ("open", "awaiting_answer"):
        raise TaskNotWorkable(task_id, task.status)
    chart, _problems = read_chart(task, repo.queries_of(task.encounter_key))
    refusals = check_query(draft, [str(d.get("text", "")) for d in chart["documents"]])
    if refusals:
        raise QueryRefused([r.to_dict() for r in refusals])
    content = QueryContent(
        question=draft.question,
        indicators=[
            QueryIndicator(document=i.document, start=i.start, quote=i.quote)
            for i in draft.indicators
        ],
        options=[QueryOption(text=text, kind=kind.value) for text, kind in offered_options(draft)],
    )
    query = PhysicianQuery(
        id=str(uuid.uuid4()),
        task_id=task.id,
        encounter_key=task.encounter_key,
        hospital_id=task.hospital_id,
        vendor_id=task.vendor_id,
        coder_id=coder.id,
        format=draft.format.value,
        yes_no_use=draft.yes_no_use.value if draft.yes_no_use else None,
        content=content.model_dump_json(),
        raised_at=datetime.now(UTC),
    )
    repo.add(query)
    session.flush()
    refresh_tasks(session, task.encounter_key)
    raised = QueryRaised(
        query_id=query.id,
        task_id=task.id,
        encounter_key=task.encounter_key,
        hospital_id=task.hospital_id,
        coder_id=coder.id,
        format=draft.format.value,
        yes_no_use=query.yes_no_use,
        raised_at=query.raised_at,
        content=content,
    )
    _announce(session, settings, raised, query, f"query-raised-{query.id}")
    return query


def withdraw_query(
    session: Session, settings: ChartflowSettings, coder: Coder, query_id: str
) -> PhysicianQuery:
    repo = CodingRepository(session)
    query = repo.query(query_id)
    if query is None or query.coder_id != coder.id or query.vendor_id != coder.vendor_id:
        raise QueryNotFound(query_id)
    if query.status != "open":
        raise QueryClosed(query_id, query.status)
    query.status, query.closed_at = "withdrawn", datetime.now(UTC)
    repo.add(query)
    session.flush()
    refresh_tasks(session, query.encounter_key)
    withdrawn = QueryWithdrawn(
        query_id=query.id,
        task_id=query.task_id,
        encounter_key=query.encounter_key,
        hospital_id=query.hospital_id,
        coder_id=coder.id,
        withdrawn_at=query.closed_at,
    )
    _announce(session, settings, withdrawn, query, f"query-withdrawn-{query.id}")
    return query


def take_answer(session: Session, envelope: Envelope) -> None:
    """`physician.answers`: the answer joins the chart and the task returns to its coder."""
    if not claim_event(session, SERVICE, envelope.id):
        return
    answered = envelope.payload(QueryAnswered)
    repo = CodingRepository(session)
    query = repo.query(answered.query_id)
    if query is None or query.status != "open":
        return  # another deployment's query, or withdrawn meanwhile
    query.status, query.closed_at = "answered", answered.answered_at
    query.answered_by_npi = answered.answered_by_npi
    query.answer = answered.answer.model_dump_json()
    repo.add(query)
    session.flush()
    refresh_tasks(session, query.encounter_key)


def coder_queries(
    session: Session, settings: ChartflowSettings, coder: Coder, status: str | None, route: str
) -> list[dict[str, Any]]:
    """The coder's queries with their answers; each is a read of the encounter's PHI."""
    queries = CodingRepository(session).queries_by(coder.id, status)
    for query in queries:
        record_access(
            session,
            settings,
            reader(coder),
            "query.read",
            route,
            tenant=query.hospital_id,
            encounter_key=query.encounter_key,
        )
    return [query_view(q) for q in queries]


def query_view(query: PhysicianQuery) -> dict[str, Any]:
    answer = PhysicianAnswer.model_validate_json(query.answer) if query.answer else None
    return {
        "id": query.id,
        "task_id": query.task_id,
        "encounter_key": query.encounter_key,
        "coder_id": query.coder_id,
        "format": query.format,
        "yes_no_use": query.yes_no_use,
        "status": query.status,
        "raised_at": query.raised_at.isoformat(),
        "closed_at": query.closed_at.isoformat() if query.closed_at else None,
        **QueryContent.model_validate_json(query.content).model_dump(mode="json"),
        "answer": (
            {**answer.model_dump(mode="json"), "answered_by_npi": query.answered_by_npi}
            if answer
            else None
        ),
    }


def _announce(
    session: Session,
    settings: ChartflowSettings,
    event: EventData,
    query: PhysicianQuery,
    event_id: str,
) -> None:
    envelope = Envelope.wrap(
        event, source=SERVICE, subject=query.encounter_key, tenant=query.hospital_id, id=event_id
    )
    add_to_outbox(session, settings.topic(topics.PHYSICIAN_QUERIES), envelope)
