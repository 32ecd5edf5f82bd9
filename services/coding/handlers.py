"""Coding use cases: take tasks onto worklists (and off them), show charts with their query
addenda, accept validated codes or return the encounter to the hospital."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from services.coding import SERVICE, reworks
from services.coding.audit_db import AuditRepository
from services.coding.auditors import assign_waiting_audits
from services.coding.db import Coder, CodingRepository, CodingTask, PhysicianQuery
from services.coding.domain.encounter import EncounterShapeError
from services.coding.domain.findings import Rule, error
from services.coding.domain.queries import addendum
from services.coding.domain.worklist import task_status
from shared.access import Reader, record_access
from shared.events import topics
from shared.events.access import Role
from shared.events.assignment import (
    CodingChart,
    CodingTaskCreated,
    CodingTaskHeld,
    CodingTaskRescheduled,
    CodingTaskResumed,
    CodingTaskWithdrawn,
)
from shared.events.bounds import MAX_CLAIM_TOTAL, MAX_LINE_CHARGE, line_charge
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import CodingReturned, CodingSubmitted, QueryContent, ReturnReason
from shared.events.envelope import Envelope, EventData
from shared.events.intake import ClinicalDocument, PhysicianAnswer
from shared.failures import describe
from shared.http import hash_secret, new_secret
from shared.outbox import add_to_outbox, claim_event
from shared.settings import ChartflowSettings


class TaskNotFound(Exception):
    pass


class TaskClosed(Exception):
    pass


class TaskNotWorkable(Exception):
    """On hold, or waiting for a physician's answer."""

    def __init__(self, task_id: str, status: str) -> None:
        super().__init__(f"task {task_id} is {status}")
        self.status = status


class CodesRejected(Exception):
    def __init__(self, findings: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(findings)} finding(s) block or need confirmation")
        self.findings = findings


@dataclass
class Submission:
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]
    confirm_warnings: bool = False


def warm_code_sets() -> None:
    from services.coding.domain import search_codes, validate_encounter

    validate_encounter(
        {
            "encounter_class": "professional",
            "patient": {"sex": "U", "age": 40},
            "diagnoses": [{"code": "E11.9"}],
        }
    )
    search_codes("diabetes")


def register_coder(
    session: Session,
    coder_id: str,
    vendor_id: str,
    name: str,
    pools: list[str],
    credentials: list[str],
    role: str,
) -> str:
    api_key = new_secret("ck")
    session.merge(
        Coder(
            id=coder_id,
            vendor_id=vendor_id,
            name=name,
            pools=",".join(pools),
            credentials=",".join(credentials),
            role=role,
            api_key_hash=hash_secret(api_key),
        )
    )
    session.flush()
    if role == "coder":
        assign_waiting_tasks(session, vendor_id, pools)
    if role == "auditor":
        assign_waiting_audits(session)
    return api_key


def assign_waiting_tasks(session: Session, vendor_id: str, pools: list[str]) -> None:
    """Tasks that arrived while their pool had no coder go to the worklists now."""
    repo = CodingRepository(session)
    for task in repo.unassigned(vendor_id, pools):
        coder = repo.least_loaded_coder(vendor_id, task.pool_id)
        if coder is not None:
            task.coder_id, task.status = coder.id, "open"
            repo.add(task)
            session.flush()


TaskChange = CodingTaskWithdrawn | CodingTaskHeld | CodingTaskResumed | CodingTaskRescheduled
TASK_CHANGES: dict[str, type[TaskChange]] = {
    kind.event_type: kind
    for kind in (CodingTaskWithdrawn, CodingTaskHeld, CodingTaskResumed, CodingTaskRescheduled)
}


def take_task(session: Session, envelope: Envelope) -> None:
    """Every `coding.tasks` event: a new task, or one withdrawn, held, resumed, rescheduled."""
    if not claim_event(session, SERVICE, envelope.id):
        return
    if envelope.type == CodingTaskCreated.event_type:
        _new_task(session, envelope.payload(CodingTaskCreated))
        return
    kind = TASK_CHANGES.get(envelope.type)
    if kind is None:
        raise ValueError(f"coding.tasks carries no {envelope.type} events")
    change = envelope.payload(kind)
    repo = CodingRepository(session)
    task = repo.task(change.task_id)
    if task is None:
        return  # never reached this coding deployment
    if isinstance(change, CodingTaskWithdrawn):
        task.status = "withdrawn"
        if change.reason == "cancelled":
            _close_open_queries(repo, task.encounter_key, "cancelled")
    elif isinstance(change, CodingTaskHeld):
        task.held = True
    elif isinstance(change, CodingTaskResumed):
        task.held, task.due_at = False, change.due_at
    else:
        task.due_at = change.due_at
    repo.add(task)
    refresh_tasks(session, task.encounter_key)


def _new_task(session: Session, created: CodingTaskCreated) -> None:
    """On the named coder's worklist (ops reassigned it) or the least-loaded one's in its pool."""
    repo = CodingRepository(session)
    named = repo.coder(created.coder_id) if created.coder_id else None
    if named is None or named.vendor_id != created.vendor_id or named.role != "coder":
        named = None
    if named is not None and not reworks.may_rework(named, created):
        named = None
    coder = named or repo.least_loaded_coder(created.vendor_id, created.pool_id)
    task = CodingTask(
        id=created.task_id,
        encounter_key=created.encounter_key,
        hospital_id=created.hospital_id,
        vendor_id=created.vendor_id,
        pool_id=created.pool_id,
        coder_id=coder.id if coder else None,
        status="open" if coder else "unassigned",
        due_at=created.due_at,
        chart=created.chart.model_dump_json(),
        **reworks.rework_fields(created),
    )
    repo.add(task)
    reworks.record_rework(session, created)
    session.flush()
    refresh_tasks(session, created.encounter_key)  # a query may be open on the encounter


def refresh_tasks(session: Session, encounter_key: str) -> None:
    """Recompute where the encounter's tasks stand (hold, open queries, coder)."""
    repo = CodingRepository(session)
    open_queries = sum(q.status == "open" for q in repo.queries_of(encounter_key))
    for task in repo.tasks_of(encounter_key):
        status = task_status(
            task.status,
            has_coder=task.coder_id is not None,
            held=task.held,
            open_queries=open_queries,
        )
        if status != task.status:
            task.status = status
            repo.add(task)


def _close_open_queries(repo: CodingRepository, encounter_key: str, status: str) -> None:
    for query in repo.queries_of(encounter_key):
        if query.status == "open":
            query.status, query.closed_at = status, datetime.now(UTC)
            repo.add(query)


def own_task(repo: CodingRepository, coder: Coder, task_id: str) -> CodingTask:
    task = repo.task(task_id)
    # A coder sees only tasks assigned to them, within their vendor; withdrawn ones are gone.
    if (
        task is None
        or task.coder_id != coder.id
        or task.vendor_id != coder.vendor_id
        or task.status == "withdrawn"
    ):
        raise TaskNotFound(task_id)
    return task


CODING_ROLES: dict[str, Role] = {
    "coder": "coder",
    "auditor": "auditor",
    "vendor_manager": "vendor_manager",
}


def reader(coder: Coder) -> Reader:
    return Reader(coder.id, CODING_ROLES[coder.role], coder.vendor_id)


def open_chart(
    session: Session, settings: ChartflowSettings, coder: Coder, task_id: str, route: str
) -> tuple[CodingTask, dict[str, Any], list[PhysicianQuery]]:
    """The chart with the minimum necessary PHI for coding (answered queries as addenda) and
    the encounter's queries; the access is recorded."""
    repo = CodingRepository(session)
    task = own_task(repo, coder, task_id)
    record_access(
        session,
        settings,
        reader(coder),
        "chart.read",
        route,
        tenant=task.hospital_id,
        encounter_key=task.encounter_key,
    )
    queries = repo.queries_of(task.encounter_key)
    chart, _problems = read_chart(task, queries)
    return task, chart, queries


def read_chart(task: CodingTask, queries: list[PhysicianQuery]) -> tuple[dict[str, Any], list[str]]:
    """The task's chart with every answered query as an addendum, in the order answered, and
    what makes it uncodable (fields named, never values).

    A chart stored before today's bounds may break them: the coder still sees it and can
    return the task to the hospital.
    """
    problems: list[str] = []
    try:
        chart = CodingChart.model_validate_json(task.chart).model_dump(mode="json")
    except ValidationError as exc:
        chart, problems = json.loads(task.chart), [describe(exc)]
    chart["documents"] = [
        *chart.get("documents", []),
        *(document.model_dump(mode="json") for document in addenda(queries)),
    ]
    return chart, problems


def addenda(queries: list[PhysicianQuery]) -> list[ClinicalDocument]:
    """The answered queries as chart documents, in the order answered."""
    answered = sorted(
        (q for q in queries if q.status == "answered" and q.answer),
        key=lambda q: (q.closed_at or q.raised_at, q.id),
    )
    documents = []
    for query in answered:
        content = QueryContent.model_validate_json(query.content)
        answer = PhysicianAnswer.model_validate_json(query.answer or "{}")
        on = (query.closed_at or query.raised_at).date().isoformat()
        text = addendum(
            content.question, answer.choice, answer.text, query.answered_by_npi or "", on
        )
        documents.append(ClinicalDocument(kind="physician_query_addendum", text=text))
    return documents


def not_codable(problems: list[str]) -> list[dict[str, Any]]:
    message = "The encounter cannot carry a claim as sent ({}); return it to the hospital."
    return [
        error(Rule.ENC_NOT_CODABLE, "", message.format(problem)).to_dict() for problem in problems
    ]


def amount_findings(chart: dict[str, Any], submission: Submission) -> list[dict[str, Any]]:
    """Lines, and the claim, must bill no more than an 837 carries (`shared.events.bounds`)."""
    prices = {c["code"]: c for c in chart.get("charges", []) if c.get("code")}
    findings, total = [], Decimal(0)
    for number, procedure in enumerate(submission.procedures, start=1):
        price = prices.get(procedure.code)
        if price is None:
            continue
        charge = line_charge(Decimal(price["charge"]), price.get("units", 1), procedure.units)
        total += charge
        if charge > MAX_LINE_CHARGE:
            message = f"procedure line {number}: units bill more than {MAX_LINE_CHARGE:,} a line."
            findings.append(error(Rule.ENC_AMOUNT_TOO_LARGE, procedure.code, message).to_dict())
    if total > MAX_CLAIM_TOTAL:
        message = f"The procedures bill more than {MAX_CLAIM_TOTAL:,} on one claim."
        findings.append(error(Rule.ENC_AMOUNT_TOO_LARGE, "", message).to_dict())
    return findings


def workable_task(repo: CodingRepository, coder: Coder, task_id: str) -> CodingTask:
    """The coder's task, if it can be coded or returned now (not closed, held or waiting for
    a physician's answer)."""
    task = own_task(repo, coder, task_id)
    if task.status in ("submitted", "returned"):
        raise TaskClosed(task_id)
    if task.status != "open":
        raise TaskNotWorkable(task_id, task.status)
    return task


def validation_document(chart: dict[str, Any], submission: Submission) -> dict[str, Any]:
    return {
        "encounter_class": chart["encounter_class"],
        "patient": chart["patient"],
        "diagnoses": [d.model_dump(exclude_none=True) for d in submission.diagnoses],
        "procedures": [p.model_dump() for p in submission.procedures],
    }


def submit_codes(
    session: Session,
    settings: ChartflowSettings,
    coder: Coder,
    task_id: str,
    submission: Submission,
) -> CodingTask:
    repo = CodingRepository(session)
    task = workable_task(repo, coder, task_id)
    check_codes(repo, task, submission)
    submitted = CodingSubmitted(
        task_id=task.id,
        encounter_key=task.encounter_key,
        coder_id=coder.id,
        diagnoses=submission.diagnoses,
        procedures=submission.procedures,
    )
    task.codes = submitted.model_dump_json()
    closed = _close(session, settings, task, "submitted", submitted)
    # The hospital's vendor figures for the month change: intake hears it (scorecards.py).
    AuditRepository(session).mark(f"submitted-{task.id}", task.hospital_id, period_of(now()))
    return closed


def check_codes(repo: CodingRepository, task: CodingTask, submission: Submission) -> None:
    """Codes for the task's chart (with its addenda) pass validation, or CodesRejected with
    the findings."""
    from services.coding.domain import validate_encounter  # loads the code sets lazily

    chart, problems = read_chart(task, repo.queries_of(task.encounter_key))
    if problems:
        raise CodesRejected(not_codable(problems))
    try:
        result = validate_encounter(validation_document(chart, submission))
    except EncounterShapeError as exc:
        raise CodesRejected(not_codable([exc.field])) from exc
    findings = [f.to_dict() for f in result.findings] + amount_findings(chart, submission)
    blocking = [f for f in findings if f["severity"] == "error"]
    if blocking or (findings and not submission.confirm_warnings):
        raise CodesRejected(findings)


def now() -> datetime:
    return datetime.now(UTC)


def period_of(moment: datetime) -> str:
    """The scorecard period (a calendar month, UTC) a moment falls in; a moment without a
    zone is UTC (SQLite gives them back so)."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{utc:%Y-%m}"


def return_task(
    session: Session,
    settings: ChartflowSettings,
    coder: Coder,
    task_id: str,
    reason: ReturnReason,
    note: str | None,
) -> CodingTask:
    """Hand the encounter back to the hospital uncoded, with a reason (the task closes)."""
    task = workable_task(CodingRepository(session), coder, task_id)
    returned = CodingReturned(
        task_id=task.id,
        encounter_key=task.encounter_key,
        coder_id=coder.id,
        reason=reason,
        note=note,
    )
    return _close(session, settings, task, "returned", returned)


def _close(
    session: Session, settings: ChartflowSettings, task: CodingTask, status: str, event: EventData
) -> CodingTask:
    """The task leaves the worklist, and assignment hears why, in one transaction."""
    task.status, task.submitted_at = status, now()
    session.add(task)
    envelope = Envelope.wrap(
        event,
        source=SERVICE,
        subject=task.encounter_key,
        tenant=task.hospital_id,
        id=f"{status}-{task.id}",
    )
    add_to_outbox(session, settings.topic(topics.CODING_EVENTS), envelope)
    return task
