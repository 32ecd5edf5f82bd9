"""Physician queries on the real Temporal server: the SLA clock stops while a query is open,
reminders fire, an unanswered query escalates, an answer gives the task back to its coder."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from services.assignment.db import AssignmentRepository
from services.assignment.domain.models import QueryPolicy
from services.assignment.saved_views import saved_views
from services.coding import physician_queries
from services.coding.db import CodingRepository
from services.coding.domain.queries import Indicator, QueryDraft, QueryFormat
from shared.events import topics
from shared.events.assignment import (
    CodingTaskCreated,
    CodingTaskRescheduled,
    QueryEscalated,
    QueryReminded,
)
from shared.events.envelope import Envelope
from shared.events.intake import PhysicianAnswer, QueryAnswered
from shared.outbox import OutboxEvent
from shared.settings import ChartflowSettings
from tests.integration.conftest import Assignment, of_type, pool, received, replay_and_save, wrap

pytestmark = [pytest.mark.temporal, pytest.mark.kafka]

NOTE = "primary osteoarthritis"  # in the demo encounter's progress note


async def _first_task(assignment: Assignment, unique: str) -> CodingTaskCreated:
    await assignment.db.run(lambda s: s.add(pool("pro-pool", 3600)))
    await assignment.handlers.on_encounter_received(received(unique))
    [task] = of_type(await assignment.messages(topics.CODING_TASKS, 1), CodingTaskCreated)
    await assignment.worklists_become({"coder-ava": [task.task_id], "coder-ben": []})
    return task


async def _raise(assignment: Assignment, task: CodingTaskCreated) -> str:
    """The coder raises a compliant query through coding; its event reaches assignment."""
    text = task.chart.documents[0].text
    draft = QueryDraft(
        question="Please clarify the type of the right knee osteoarthritis.",
        format=QueryFormat.MULTIPLE_CHOICE,
        indicators=[Indicator(0, text.index(NOTE), NOTE)],
        options=["Primary", "Post-traumatic", "Other (please specify)", "Clinically undetermined"],
    )
    prefix = assignment.settings.chartflow_namespace_prefix
    settings = ChartflowSettings(chartflow_namespace_prefix=prefix)

    def raise_query(session: Session) -> Envelope:
        coder = CodingRepository(session).coder("coder-ava")
        assert coder is not None
        query = physician_queries.raise_query(session, settings, coder, task.task_id, draft)
        event_id = f"query-raised-{query.id}"
        row = session.exec(select(OutboxEvent).where(OutboxEvent.event_id == event_id)).one()
        return Envelope.model_validate_json(row.payload)

    raised = await assignment.coding_db.run(raise_query)
    await assignment.handlers.on_physician_query(raised)
    return str(raised.data["query_id"])


async def _answer(assignment: Assignment, query_id: str, encounter_key: str) -> None:
    answered = QueryAnswered(
        query_id=query_id,
        encounter_key=encounter_key,
        hospital_id="mercy",
        answered_by_npi="1112223338",
        answered_at=datetime.now(UTC),
        answer=PhysicianAnswer(choice="Primary"),
    )
    envelope = wrap(answered, encounter_key)
    await assignment.coding_db.run(lambda s: physician_queries.take_answer(s, envelope))
    await assignment.handlers.on_query_answered(envelope)


async def test_an_answered_query_pauses_the_sla_and_gives_the_task_back_to_its_coder(
    assignment: Assignment, unique: str
) -> None:
    task = await _first_task(assignment, unique)
    key = task.encounter_key
    first_due = (await assignment.status(key)).due_at
    assert first_due is not None

    query_id = await _raise(assignment, task)
    pending = await assignment.wait_for(key, lambda s: s.status == "query_pending")
    assert await assignment.worklists() == {"coder-ava": [], "coder-ben": []}
    assert [q.status for q in pending.queries] == ["open"]
    now = datetime.now(UTC)
    await assignment.wait_for_search(key, saved_views(now)["waiting for the physician"])
    older = "open physician query older than two days"
    assert not await assignment.found(key, saved_views(now)[older])
    assert await assignment.found(key, saved_views(now + timedelta(days=2, minutes=1))[older])
    await asyncio.sleep(1.5)  # the clock stands still meanwhile
    await _answer(assignment, query_id, key)
    answered = await assignment.wait_for(key, lambda s: s.status == "assigned")

    assert answered.due_at is not None
    moved = answered.due_at - first_due
    assert moved == timedelta(seconds=answered.sla_paused_seconds)
    assert moved >= timedelta(seconds=1.5)
    query = answered.queries[0]
    assert query.status == "answered"
    assert query.raised_at and query.closed_at
    assert moved == query.closed_at - query.raised_at  # exactly the time the query was open
    await assignment.worklists_become({"coder-ava": [task.task_id], "coder-ben": []})
    events = await assignment.messages(topics.CODING_TASKS, 2)
    [rescheduled] = of_type(events, CodingTaskRescheduled)
    assert rescheduled.due_at == answered.due_at  # the coder's worklist shows the new due time
    coding_task = await assignment.coding_db.run(lambda s: CodingRepository(s).task(task.task_id))
    assert coding_task is not None and coding_task.due_at.replace(tzinfo=UTC) == answered.due_at
    await assignment.submit(task.task_id, key)
    result = await assignment.result_once_paid(key)
    assert result.status == "claim_paid"
    assert result.history == [
        "assigned",
        "query_pending",
        "assigned",
        "coded",
        "released",
        "claim_paid",
    ]
    records = await assignment.db.run(lambda s: AssignmentRepository(s).query_records())
    assert [(r.status, r.coder_id) for r in records] == [("answered", "coder-ava")]
    await replay_and_save(assignment.handle(key), "encounter_coding_query_answered")


async def test_an_unanswered_query_is_reminded_then_escalated_to_the_hospital(
    assignment: Assignment, unique: str
) -> None:
    assignment.handlers.query_policy = QueryPolicy(
        reminder_seconds=[1, 1], escalate_after_seconds=1
    )
    task = await _first_task(assignment, unique)
    key = task.encounter_key

    query_id = await _raise(assignment, task)
    events = await assignment.messages(topics.ASSIGNMENT_EVENTS, 3)

    reminders = of_type(events, QueryReminded)
    assert [(r.query_id, r.reminder) for r in reminders] == [(query_id, 1), (query_id, 2)]
    [escalated] = of_type(events, QueryEscalated)
    assert (escalated.query_id, escalated.reminders_sent) == (query_id, 2)
    status = await assignment.wait_for(key, lambda s: s.queries[0].escalated)
    assert status.status == "query_pending"  # still waiting on the physician: clock stopped
    assert [e.kind for e in status.escalations] == ["query_unanswered"]
    [listed] = await assignment.ops.escalations(acknowledged=False, limit=10)
    assert (listed.kind, listed.query_id, listed.encounter_key) == (
        "query_unanswered",
        query_id,
        key,
    )
    await assignment.wait_for_search(key, "Escalated = true AND EscalationStatus = 'open'")
    figures = {f.key: f for f in await assignment.ops.query_figures("coder")}
    assert (figures["coder-ava"].raised, figures["coder-ava"].escalated) == (1, 1)

    await _answer(assignment, query_id, key)  # late, but answered
    await assignment.wait_for(key, lambda s: s.status == "assigned")
    await assignment.submit(task.task_id, key)
    assert (await assignment.result_once_paid(key)).status == "claim_paid"
    await replay_and_save(assignment.handle(key), "encounter_coding_query_escalated")
