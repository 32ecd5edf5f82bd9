"""Coding use cases: take tasks onto worklists, show charts, accept validated codes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from services.coding import SERVICE
from services.coding.db import Coder, CodingRepository, CodingTask
from services.coding.domain.encounter import EncounterShapeError
from services.coding.domain.findings import Rule, error
from shared.access import Reader, record_access
from shared.events import topics
from shared.events.access import Role
from shared.events.assignment import CodingChart, CodingTaskCreated
from shared.events.bounds import MAX_CLAIM_TOTAL, MAX_LINE_CHARGE, line_charge
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import CodingReturned, CodingSubmitted, ReturnReason
from shared.events.envelope import Envelope, EventData
from shared.failures import describe
from shared.http import hash_secret, new_secret
from shared.outbox import add_to_outbox, claim_event
from shared.settings import ChartflowSettings


class TaskNotFound(Exception):
    pass


class TaskClosed(Exception):
    pass


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


def take_task(session: Session, envelope: Envelope) -> None:
    """Put a new coding task on the least-loaded coder's worklist in its pool."""
    if not claim_event(session, SERVICE, envelope.id):
        return
    created = envelope.payload(CodingTaskCreated)
    repo = CodingRepository(session)
    coder = repo.least_loaded_coder(created.vendor_id, created.pool_id)
    repo.add(
        CodingTask(
            id=created.task_id,
            encounter_key=created.encounter_key,
            hospital_id=created.hospital_id,
            vendor_id=created.vendor_id,
            pool_id=created.pool_id,
            coder_id=coder.id if coder else None,
            status="open" if coder else "unassigned",
            due_at=created.due_at,
            chart=created.chart.model_dump_json(),
        )
    )


def _own_task(repo: CodingRepository, coder: Coder, task_id: str) -> CodingTask:
    task = repo.task(task_id)
    # A coder sees only tasks assigned to them, within their vendor.
    if task is None or task.coder_id != coder.id or task.vendor_id != coder.vendor_id:
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
) -> tuple[CodingTask, dict[str, Any]]:
    """The chart with the minimum necessary PHI for coding, and the access recorded."""
    repo = CodingRepository(session)
    task = _own_task(repo, coder, task_id)
    record_access(
        session,
        settings,
        reader(coder),
        "chart.read",
        route,
        tenant=task.hospital_id,
        encounter_key=task.encounter_key,
    )
    chart, _problems = read_chart(task)
    return task, chart


def read_chart(task: CodingTask) -> tuple[dict[str, Any], list[str]]:
    """The task's chart, and what makes it uncodable (fields named, never values).

    A chart stored before today's bounds may break them: the coder still sees it and can
    return the task to the hospital.
    """
    try:
        return CodingChart.model_validate_json(task.chart).model_dump(mode="json"), []
    except ValidationError as exc:
        chart: dict[str, Any] = json.loads(task.chart)
        return chart, [describe(exc)]


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
    from services.coding.domain import validate_encounter  # loads the code sets lazily

    repo = CodingRepository(session)
    task = _own_task(repo, coder, task_id)
    if task.status != "open":
        raise TaskClosed(task_id)
    chart, problems = read_chart(task)
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
    submitted = CodingSubmitted(
        task_id=task.id,
        encounter_key=task.encounter_key,
        coder_id=coder.id,
        diagnoses=submission.diagnoses,
        procedures=submission.procedures,
    )
    task.codes = submitted.model_dump_json()
    return _close(session, settings, task, "submitted", submitted)


def return_task(
    session: Session,
    settings: ChartflowSettings,
    coder: Coder,
    task_id: str,
    reason: ReturnReason,
    note: str | None,
) -> CodingTask:
    """Hand the encounter back to the hospital uncoded, with a reason (the task closes)."""
    repo = CodingRepository(session)
    task = _own_task(repo, coder, task_id)
    if task.status != "open":
        raise TaskClosed(task_id)
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
    task.status, task.submitted_at = status, datetime.now(UTC)
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
