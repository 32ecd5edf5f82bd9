"""Events produced by assignment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.events.bounds import NOTE_TEXT, age_on
from shared.events.claims import TriagedLine
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import ReturnReason
from shared.events.envelope import EventData
from shared.events.intake import (
    Admission,
    BillingProvider,
    ChargeLine,
    ClinicalDocument,
    EncounterClass,
    EncounterDocument,
    Provider,
)
from shared.events.phi import (
    CHART_PHI,
    ENCOUNTER_PHI,
    NO_PHI,
    OPS_REASON_PHI,
    RETURN_NOTE_PHI,
    under,
)


class ChartPatient(BaseModel):
    sex: Literal["F", "M", "U"]
    age: int


class CodingChart(BaseModel):
    """HIPAA minimum necessary for coding: age and sex, never names, addresses or member ids."""

    encounter_class: EncounterClass
    specialty: str | None
    service_date: date
    discharge_date: date | None
    place_of_service: str
    admission: Admission | None
    patient: ChartPatient
    providers: list[Provider]
    documents: list[ClinicalDocument]
    charges: list[ChargeLine]

    @classmethod
    def of(cls, document: EncounterDocument) -> CodingChart:
        age = age_on(document.patient.birth_date, document.service_date)
        return cls(
            **document.model_dump(exclude={"patient", "coverage", "external_id"}),
            patient=ChartPatient(sex=document.patient.sex, age=age),
        )


class ReworkReason(BaseModel):
    """What the payer said about the claim, classified coding-caused (no amount, no PHI)."""

    source: str  # 835 | 277CA | 999
    code: str  # CO-11, CO-16 M76, A7:255
    meaning: str
    lines: list[TriagedLine] = []  # the lines concerned, with the codes billed on them


class ReworkDetails(BaseModel):
    """A coding task that reworks a coding-caused denial or rejection: which claim, why, and
    the codes the payer saw (the denied version's)."""

    claim_id: str
    claim_version: int
    denied_task_id: str
    denied_coder_id: str  # whose codes were denied: the denial counts on their scorecard
    denied_pool_id: str
    reasons: list[ReworkReason]
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]


class CodingTaskCreated(EventData):
    """A coding task for a vendor pool; carries the chart the coder needs, nothing more."""

    event_type = "chartflow.assignment.coding_task.created"
    phi_paths = under("chart", CHART_PHI)

    task_id: str
    encounter_key: str
    hospital_id: str
    vendor_id: str
    pool_id: str
    due_at: datetime
    chart: CodingChart
    # Ops reassigned the encounter to this coder (of the vendor) by name, or a rework goes
    # back to the coder who coded the denied claim.
    coder_id: str | None = None
    rework: ReworkDetails | None = None


class EncounterCoded(EventData):
    event_type = "chartflow.assignment.encounter.coded"
    phi_paths = under("encounter", ENCOUNTER_PHI)

    encounter_key: str
    hospital_id: str
    billing_provider: BillingProvider
    encounter: EncounterDocument
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]
    coder_id: str
    # 1 for the first claim; a rework of a denied or rejected claim is billed as the next
    # version (claims makes it a replacement of the one before).
    claim_version: int = Field(default=1, ge=1, le=99)


class EncounterReturned(EventData):
    """The encounter goes back to the hospital uncoded, with the coder's reason."""

    event_type = "chartflow.assignment.encounter.returned"
    phi_paths = RETURN_NOTE_PHI

    encounter_key: str
    hospital_id: str
    task_id: str
    reason: ReturnReason
    note: str | None = None


class CodingTaskWithdrawn(EventData):
    """Take the task off its worklist: reassigned elsewhere, the encounter cancelled, or coded
    or returned to the hospital from another task."""

    event_type = "chartflow.assignment.coding_task.withdrawn"
    phi_paths = NO_PHI

    task_id: str
    encounter_key: str
    reason: Literal["reassigned", "cancelled", "coded_elsewhere", "returned"]


class CodingTaskHeld(EventData):
    """Ops put the encounter on hold: the task leaves the worklist until it is released."""

    event_type = "chartflow.assignment.coding_task.held"
    phi_paths = NO_PHI

    task_id: str
    encounter_key: str


class CodingTaskResumed(EventData):
    """The hold is over: the task is back on its coder's worklist, due at `due_at`."""

    event_type = "chartflow.assignment.coding_task.resumed"
    phi_paths = NO_PHI

    task_id: str
    encounter_key: str
    due_at: datetime


class CodingTaskRescheduled(EventData):
    """The task's SLA due time moved (a paused clock, or ops extended it)."""

    event_type = "chartflow.assignment.coding_task.rescheduled"
    phi_paths = NO_PHI

    task_id: str
    encounter_key: str
    due_at: datetime


class QueryReminded(EventData):
    """A physician query is still unanswered: reminder `reminder` of the hospital's policy."""

    event_type = "chartflow.assignment.query.reminded"
    phi_paths = NO_PHI

    query_id: str
    encounter_key: str
    hospital_id: str
    reminder: int
    raised_at: datetime


class QueryEscalated(EventData):
    """Still unanswered after the last reminder: the hospital's CDI contact must follow up."""

    event_type = "chartflow.assignment.query.escalated"
    phi_paths = NO_PHI

    query_id: str
    encounter_key: str
    hospital_id: str
    escalation_id: str
    reminders_sent: int
    raised_at: datetime


class EncounterEscalated(EventData):
    """The SLA was breached and no other pool can take the encounter (or reassignments are
    used up), a pre-bill audit is overdue, or the payer denied the claim for coding again after
    the reworks allowed (`reworks_used_up`: the claim stays denied): ops must act. Listed at
    assignment's `GET /v1/escalations`."""

    event_type = "chartflow.assignment.encounter.escalated"
    phi_paths = NO_PHI

    escalation_id: str
    encounter_key: str
    hospital_id: str
    reason: Literal["no_other_pool", "reassignments_used_up", "audit_overdue", "reworks_used_up"]
    pool_id: str | None
    task_id: str | None
    due_at: datetime | None


class EncounterCancelled(EventData):
    """Ops cancelled the encounter: it will not be coded or billed."""

    event_type = "chartflow.assignment.encounter.cancelled"
    phi_paths = OPS_REASON_PHI

    encounter_key: str
    hospital_id: str
    reason: str = Field(max_length=500, pattern=NOTE_TEXT)


class AuditTaskCreated(EventData):
    """A coded encounter was sampled for a pre-bill audit: an auditor re-codes it blind.

    Coding holds the coded task and its chart, so the event carries ids and the sampling rule
    only; the claim waits for the audit's final codes."""

    event_type = "chartflow.assignment.audit_task.created"
    phi_paths = NO_PHI

    audit_id: str
    encounter_key: str
    hospital_id: str
    task_id: str  # the coded task under audit
    coder_id: str
    vendor_id: str  # the coder's vendor
    pool_id: str
    due_at: datetime
    rule: str
    reason: str
    credentials: list[str]  # an auditor needs one of them (the encounter class's)
    prefer_other_vendor: bool = False
