"""Inputs and outputs of the EncounterCoding workflow and its activities (no PHI in them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.assignment.domain.audit_models import AuditStatus
from services.assignment.domain.claim_models import ClaimStatusSignal, Rework, ReworkOrder
from shared.events.bounds import IDENTIFIER, NOTE_TEXT, PoolId

DAY = 86_400


class QueryPolicy(BaseModel):
    """When an unanswered physician query is followed up: a reminder after each interval, then
    escalation to the hospital's CDI contact `escalate_after_seconds` after the last one."""

    reminder_seconds: list[float] = [2 * DAY, 2 * DAY]
    escalate_after_seconds: float = DAY


class EncounterCodingInput(BaseModel):
    encounter_key: str
    hospital_id: str
    encounter_class: str
    # Re-route to another pool when an SLA is breached at most this many times.
    max_reassignments: int = 3
    query_policy: QueryPolicy = QueryPolicy()
    # Coding-caused denials sent back to coding at most this many times; then final.
    max_reworks: int = 2


class RouteRequest(BaseModel):
    encounter_key: str
    encounter_class: str
    hospital_id: str
    exclude_pools: list[str] = []


class PoolAssignment(BaseModel):
    pool_id: str
    vendor_id: str
    sla_seconds: int
    rework_sla_seconds: int | None = None  # a coding-caused denial's rework (none: sla_seconds)


class BacklogPlace(BaseModel):
    """Where a waiting encounter queues: the pools whose backlogs it joined, and the slot one
    of them already offered it (when that offer's signal may have been missed)."""

    pool_ids: list[str] = []
    offered: PoolAssignment | None = None


class CodingTaskRequest(BaseModel):
    task_id: str
    encounter_key: str
    pool_id: str
    vendor_id: str
    due_at: datetime
    coder_id: str | None = None  # ops named the coder, or the rework's coder
    rework: ReworkOrder | None = None  # a coding-caused denial sent back to coding


class CodingSubmittedSignal(BaseModel):
    task_id: str
    coder_id: str


class CodingReturnedSignal(BaseModel):
    task_id: str
    coder_id: str


class ReleaseRequest(BaseModel):
    encounter_key: str
    task_id: str
    audit_id: str | None = None  # released with this audit's final codes
    claim_version: int = 1  # a rework's codes are billed as the next claim version


class QuerySignal(BaseModel):
    """A physician query raised, answered or withdrawn (ids only: the content is PHI)."""

    query_id: str
    task_id: str = ""
    coder_id: str = ""


class OpsSignal(BaseModel):
    """An ops control as the workflow hears it: who asked, and the ops action stored with its
    reason (free text, maybe PHI: it stays in assignment's database, out of history)."""

    by: str
    action_id: int | None = None  # None in histories recorded before reasons moved out


class ReassignSignal(OpsSignal):
    pool_id: str | None = None
    coder_id: str | None = None


class ExtendSlaSignal(OpsSignal):
    seconds: int


class OpsRequest(BaseModel):
    """Who asks for an ops control, and why."""

    by: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    reason: str = Field(min_length=1, max_length=500, pattern=NOTE_TEXT)

    def signal(self, action_id: int | None) -> OpsSignal:
        return OpsSignal(by=self.by, action_id=action_id)


class ReassignRequest(OpsRequest):
    pool_id: PoolId | None = None
    coder_id: str | None = Field(default=None, max_length=64, pattern=IDENTIFIER)

    def signal(self, action_id: int | None) -> ReassignSignal:
        return ReassignSignal(
            by=self.by, action_id=action_id, pool_id=self.pool_id, coder_id=self.coder_id
        )


class ExtendSlaRequest(OpsRequest):
    seconds: int = Field(ge=1, le=90 * DAY)

    def signal(self, action_id: int | None) -> ExtendSlaSignal:
        return ExtendSlaSignal(by=self.by, action_id=action_id, seconds=self.seconds)


class EscalationAck(BaseModel):
    """Ops acknowledged an escalation (their note stays in assignment's database)."""

    escalation_id: str
    by: str


class TaskNotice(BaseModel):
    """Tell coding about the encounter's open tasks: held, resumed or rescheduled."""

    encounter_key: str
    task_ids: list[str]
    notice: Literal["held", "resumed", "rescheduled"]
    due_at: datetime
    sequence: int  # makes each notice's event id unique and stable across activity retries


class WithdrawRequest(BaseModel):
    encounter_key: str
    task_ids: list[str]
    reason: Literal["reassigned", "cancelled"]


class QueryFollowUp(BaseModel):
    query_id: str
    encounter_key: str
    hospital_id: str
    raised_at: datetime
    reminder: int  # the reminder's number, or how many were sent (escalation)


class EscalationRequest(BaseModel):
    escalation_id: str
    encounter_key: str
    hospital_id: str
    kind: Literal[
        "no_other_pool",
        "reassignments_used_up",
        "query_unanswered",
        "audit_overdue",
        "reworks_used_up",
    ]
    pool_id: str | None = None
    task_id: str | None = None
    due_at: datetime | None = None
    query: QueryFollowUp | None = None


class CancelRequest(BaseModel):
    encounter_key: str
    hospital_id: str
    task_ids: list[str]
    action_id: int | None = None  # the ops action with the reason


class QueryState(BaseModel):
    query_id: str
    task_id: str
    coder_id: str
    status: Literal["open", "answered", "withdrawn"]
    raised_at: datetime | None = None
    closed_at: datetime | None = None
    reminders_sent: int = 0
    escalated: bool = False


class OpsAction(BaseModel):
    action: str
    by: str
    at: datetime
    action_id: int | None = None
    reason: str | None = None  # from assignment's database, never from the workflow


class Escalation(BaseModel):
    escalation_id: str
    kind: str
    at: datetime
    acknowledged_by: str | None = None


class CodingStatus(BaseModel):
    encounter_key: str
    status: str
    pool_id: str | None = None
    task_id: str | None = None
    due_at: datetime | None = None
    reassignments: int = 0
    history: list[str] = []
    # The claim the encounter was billed as (its newest version's last step) and reworks.
    claim_version: int = 1
    claim: ClaimStatusSignal | None = None
    reworks: list[Rework] = []
    sla_running: bool = False  # the due time counts (not breached, not between tasks)
    sla_paused_seconds: float = 0.0
    sla_extended_seconds: float = 0.0
    on_hold: bool = False
    queries: list[QueryState] = []
    open_task_ids: list[str] = []
    escalations: list[Escalation] = []
    ops_actions: list[OpsAction] = []
    audit: AuditStatus | None = None  # the sampling decision, and the audit it started
