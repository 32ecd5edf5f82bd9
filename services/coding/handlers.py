"""Coding use cases: take tasks onto worklists, show charts, accept validated codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from services.coding import SERVICE
from services.coding.db import Coder, CodingRepository, CodingTask
from shared.access import Reader, record_access
from shared.events import topics
from shared.events.access import Role
from shared.events.assignment import CodingChart, CodingTaskCreated
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import CodingSubmitted
from shared.events.envelope import Envelope
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
    return task, CodingChart.model_validate_json(task.chart).model_dump(mode="json")


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
    chart = CodingChart.model_validate_json(task.chart).model_dump(mode="json")
    result = validate_encounter(validation_document(chart, submission))
    findings = [f.to_dict() for f in result.findings]
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
    task.status, task.codes = "submitted", submitted.model_dump_json()
    task.submitted_at = datetime.now(UTC)
    repo.add(task)
    envelope = Envelope.wrap(
        submitted,
        source=SERVICE,
        subject=task.encounter_key,
        tenant=task.hospital_id,
        id=f"submitted-{task.id}",
    )
    add_to_outbox(session, settings.topic(topics.CODING_EVENTS), envelope)
    return task
