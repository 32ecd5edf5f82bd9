"""Inputs and outputs of the pre-bill audit step of EncounterCoding (no PHI in them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.assignment.domain.sampling import SamplingDecision


class SamplingRequest(BaseModel):
    encounter_key: str
    hospital_id: str
    encounter_class: str
    task_id: str  # the coded task
    coder_id: str


class AuditTaskRequest(BaseModel):
    audit_id: str
    encounter_key: str
    hospital_id: str
    encounter_class: str
    task_id: str
    coder_id: str
    due_at: datetime
    decision: SamplingDecision
    prefer_other_vendor: bool


class AuditCompletedSignal(BaseModel):
    audit_id: str
    task_id: str


class AuditStatus(BaseModel):
    """The sampling decision, with the rule that chose it, and the audit it started."""

    decision: SamplingDecision
    policy_source: str
    audit_id: str | None = None
    due_at: datetime | None = None
    overdue: bool = False
    completed: bool = False
