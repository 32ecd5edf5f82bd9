"""Pre-bill audits in coding: the sampled encounter goes to an auditor, who re-codes it from the
chart without seeing the coder's codes; then both codings side by side, a decision with a
rationale on each difference, the final codes validated and scored, and assignment told."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from services.coding import SERVICE
from services.coding.audit_db import AuditRepository
from services.coding.auditors import assign
from services.coding.db import Audit, Coder, CodingRepository, CodingTask
from services.coding.domain.accuracy import score_accuracy
from services.coding.domain.differences import compare_codings
from services.coding.domain.reconciliation import Decision, final_coding
from services.coding.handlers import (
    Submission,
    check_codes,
    now,
    period_of,
    read_chart,
    reader,
)
from shared.access import ADMIN, Reader, record_access
from shared.events import topics
from shared.events.assignment import AuditTaskCreated
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import AuditCompleted, CodingSubmitted
from shared.events.envelope import Envelope
from shared.outbox import add_to_outbox, claim_event
from shared.settings import ChartflowSettings


class AuditNotFound(Exception):
    pass


class AuditStepDone(Exception):
    """The audit is past the step asked for (re-coded already, or completed)."""


@dataclass(frozen=True)
class Ruling:
    """The auditor's decision on one difference: whose version the claim carries, and why."""

    difference_id: str
    decision: Decision
    rationale: str


def take_audit(session: Session, envelope: Envelope) -> None:
    """A sampled encounter joins the least-loaded eligible auditor's worklist (or waits)."""
    if not claim_event(session, SERVICE, envelope.id):
        return
    created = envelope.payload(AuditTaskCreated)
    if AuditRepository(session).audit(created.audit_id) is not None:
        return
    assign(
        session,
        Audit(
            id=created.audit_id,
            encounter_key=created.encounter_key,
            hospital_id=created.hospital_id,
            task_id=created.task_id,
            coder_id=created.coder_id,
            vendor_id=created.vendor_id,
            pool_id=created.pool_id,
            rule=created.rule,
            reason=created.reason,
            credentials=",".join(created.credentials),
            prefer_other_vendor=created.prefer_other_vendor,
            due_at=created.due_at,
        ),
    )


def _own_audit(session: Session, auditor: Coder, audit_id: str) -> tuple[Audit, CodingTask]:
    audit = AuditRepository(session).audit(audit_id)
    # An auditor sees only the audits assigned to them.
    if audit is None or audit.auditor_id != auditor.id:
        raise AuditNotFound(audit_id)
    task = CodingRepository(session).task(audit.task_id)
    if task is None:
        raise AuditNotFound(audit_id)
    return audit, task


def open_audit(
    session: Session, settings: ChartflowSettings, auditor: Coder, audit_id: str, route: str
) -> dict[str, Any]:
    """The chart to re-code from (an access record), and once the auditor's own codes are in,
    both codings side by side with their differences: blind until then."""
    audit, task = _own_audit(session, auditor, audit_id)
    record_access(
        session,
        settings,
        reader(auditor),
        "chart.read",
        route,
        tenant=audit.hospital_id,
        encounter_key=audit.encounter_key,
    )
    chart, _problems = read_chart(task, CodingRepository(session).queries_of(task.encounter_key))
    view: dict[str, Any] = {"audit": audit_summary(audit), "chart": chart}
    if audit.status != "recoding":
        view["reconciliation"] = reconciliation(audit, task)
    return view


def submit_recode(
    session: Session, auditor: Coder, audit_id: str, submission: Submission
) -> dict[str, Any]:
    """The auditor's blind codes, validated as a coder's are; reconciliation comes next."""
    audit, task = _own_audit(session, auditor, audit_id)
    if audit.status != "recoding":
        raise AuditStepDone(f"audit {audit_id} was re-coded already")
    check_codes(CodingRepository(session), task, submission)
    audit.recode = json.dumps(_codes(submission.diagnoses, submission.procedures))
    audit.status, audit.recoded_at = "reconciling", now()
    session.add(audit)
    return {"audit": audit_summary(audit), "reconciliation": reconciliation(audit, task)}


def reconcile(
    session: Session,
    settings: ChartflowSettings,
    auditor: Coder,
    audit_id: str,
    rulings: list[Ruling],
    confirm_warnings: bool = False,
) -> dict[str, Any]:
    """Apply a decision to every difference, validate and score the final codes, and tell
    assignment (the claim goes out with them) in the same transaction."""
    audit, task = _own_audit(session, auditor, audit_id)
    if audit.status != "reconciling":
        raise AuditStepDone(f"audit {audit_id} is {audit.status}, not waiting for reconciliation")
    coder, recode = coder_codes(task), json.loads(audit.recode or "{}")
    comparison = compare_codings(coder, recode)
    final = final_coding(comparison, {r.difference_id: r.decision for r in rulings})
    submission = Submission(
        [DiagnosisCode.model_validate(d) for d in final["diagnoses"]],
        [ProcedureCode.model_validate(p) for p in final["procedures"]],
        confirm_warnings,
    )
    check_codes(CodingRepository(session), task, submission)
    why = {r.difference_id: r for r in rulings}
    audit.decisions = json.dumps(
        [
            {**d.to_dict(), "decision": why[d.id].decision, "rationale": why[d.id].rationale}
            for d in comparison.differences
        ]
    )
    _score(audit, coder, final)
    audit.status, audit.completed_at = "completed", now()
    session.add(audit)
    completed = AuditCompleted(
        audit_id=audit.id,
        encounter_key=audit.encounter_key,
        task_id=audit.task_id,
        coder_id=audit.coder_id,
        auditor_id=auditor.id,
        diagnoses=submission.diagnoses,
        procedures=submission.procedures,
        matched=(audit.diagnoses_matched or 0) + (audit.procedures_matched or 0),
        errors=(audit.diagnoses_errors or 0) + (audit.procedures_errors or 0),
        accuracy_percent=audit.accuracy_percent or 0.0,
        record_accurate=bool(audit.record_accurate),
    )
    envelope = Envelope.wrap(
        completed,
        source=SERVICE,
        subject=audit.encounter_key,
        tenant=audit.hospital_id,
        id=f"audited-{audit.id}",
    )
    add_to_outbox(session, settings.topic(topics.CODING_EVENTS), envelope)
    period = period_of(task.submitted_at or now())
    AuditRepository(session).mark(f"audited-{audit.id}", audit.hospital_id, period)
    return {"audit": audit_summary(audit), "reconciliation": reconciliation(audit, task)}


def _score(audit: Audit, coder: dict[str, Any], final: dict[str, Any]) -> None:
    """The coder's codes against the final ones: the one definition (docs/audits.md)."""
    score = score_accuracy(coder, final)
    audit.final = json.dumps(final)
    audit.diagnoses_matched, audit.diagnoses_errors = (
        score.diagnoses.matched,
        score.diagnoses.errors,
    )
    audit.procedures_matched, audit.procedures_errors = (
        score.procedures.matched,
        score.procedures.errors,
    )
    audit.accuracy_percent = score.accuracy_percent
    audit.record_accurate = score.record_accurate
    audit.kinds = json.dumps(Counter(str(d.kind) for d in score.differences))


def coder_codes(task: CodingTask) -> dict[str, Any]:
    if task.codes is None:
        return {"diagnoses": [], "procedures": []}
    submitted = CodingSubmitted.model_validate_json(task.codes)
    return _codes(submitted.diagnoses, submitted.procedures)


def _codes(diagnoses: list[DiagnosisCode], procedures: list[ProcedureCode]) -> dict[str, Any]:
    return {
        "diagnoses": [d.model_dump(exclude_none=True) for d in diagnoses],
        "procedures": [p.model_dump() for p in procedures],
    }


def reconciliation(audit: Audit, task: CodingTask) -> dict[str, Any]:
    """Both codings side by side, each difference (with its decision once reconciled)."""
    coder, recode = coder_codes(task), json.loads(audit.recode or "{}")
    if audit.decisions:
        differences = json.loads(audit.decisions)
    else:
        differences = [d.to_dict() for d in compare_codings(coder, recode).differences]
    return {
        "coder": coder,
        "auditor": recode,
        "differences": differences,
        "final": json.loads(audit.final) if audit.final else None,
        "accuracy_percent": audit.accuracy_percent,
        "record_accurate": audit.record_accurate,
    }


def audit_summary(audit: Audit) -> dict[str, Any]:
    return audit.model_dump(
        mode="json",
        include={
            "id",
            "encounter_key",
            "status",
            "rule",
            "reason",
            "due_at",
            "created_at",
            "recoded_at",
            "completed_at",
        },
    )


def feedback(
    session: Session,
    settings: ChartflowSettings,
    viewer: Coder | None,
    audits: list[Audit],
    route: str,
) -> list[dict[str, Any]]:
    """Completed audits as their coder reads them: each difference, the auditor's decision
    and rationale, the final codes and the score. Rationales may quote the chart: each audit
    shown is an access record."""
    who: Reader = reader(viewer) if viewer else ADMIN
    shown = []
    for audit in audits:
        record_access(
            session,
            settings,
            who,
            "audit.read",
            route,
            tenant=audit.hospital_id,
            encounter_key=audit.encounter_key,
        )
        task = CodingRepository(session).task(audit.task_id)
        view = {
            "audit": audit_summary(audit),
            "task_id": audit.task_id,
            "coder_id": audit.coder_id,
            "auditor_id": audit.auditor_id,
        }
        shown.append({**view, **(reconciliation(audit, task) if task else {})})
    return shown
