"""The EncounterCoding workflow's state and the steps every part of it shares: status, search
attributes, details for the Temporal UI, durable waits and escalation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from services.assignment.activities import AssignmentActivities
    from services.assignment.domain.claim_models import ClaimStatusSignal, ReworkOrder
    from services.assignment.domain.details import current_details
    from services.assignment.domain.models import (
        CodingReturnedSignal,
        CodingStatus,
        CodingSubmittedSignal,
        EncounterCodingInput,
        Escalation,
        EscalationRequest,
        ExtendSlaSignal,
        OpsSignal,
        PoolAssignment,
        QueryState,
        ReassignSignal,
    )

HOSPITAL_ID = SearchAttributeKey.for_keyword("HospitalId")
VENDOR_POOL = SearchAttributeKey.for_keyword("VendorPool")
CODING_STATUS = SearchAttributeKey.for_keyword("CodingStatus")
SLA_DUE_AT = SearchAttributeKey.for_datetime("SlaDueAt")
QUERY_PENDING = SearchAttributeKey.for_bool("QueryPending")
QUERY_OPEN_SINCE = SearchAttributeKey.for_datetime("QueryOpenSince")
ON_HOLD = SearchAttributeKey.for_bool("OnHold")
ESCALATED = SearchAttributeKey.for_bool("Escalated")
ESCALATION_STATUS = SearchAttributeKey.for_keyword("EscalationStatus")
# The claim after release (no PHI: status, payer, version, amounts, what caused a denial).
CLAIM_STATUS = SearchAttributeKey.for_keyword("ClaimStatus")
CLAIM_PAYER = SearchAttributeKey.for_keyword("ClaimPayer")
CLAIM_VERSION = SearchAttributeKey.for_int("ClaimVersion")
CLAIM_CHARGE = SearchAttributeKey.for_float("ClaimCharge")
CLAIM_PAID = SearchAttributeKey.for_float("ClaimPaid")
DENIAL_CAUSE = SearchAttributeKey.for_keyword("DenialCause")

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Patch: from here on the short steps (routing, publishing a task, sampling facts, release) run
# as local activities; histories recorded before keep their scheduled activities on replay.
LOCAL_SHORT_STEPS = "short-steps-as-local-activities"
SHORTEST_TIMER = timedelta(milliseconds=10)

A = TypeVar("A")
R = TypeVar("R")

#: Why a wait on the open task ended before its time was up.
Outcome = Literal["submitted", "returned", "cancelled", "reassign"]


class EncounterState:
    def __init__(self, request: EncounterCodingInput) -> None:
        self._request = request
        self._status = CodingStatus(encounter_key="", status="starting")
        self._submitted: CodingSubmittedSignal | None = None
        self._returned: CodingReturnedSignal | None = None  # to the hospital, uncoded
        self._queries: dict[str, QueryState] = {}  # by query id, in the order raised
        self._hold: OpsSignal | None = None
        self._cancel: OpsSignal | None = None
        self._reassign: ReassignSignal | None = None
        self._extensions: list[ExtendSlaSignal] = []  # not applied to the due time yet
        self._pool: PoolAssignment | None = None
        self._named_coder: str | None = None
        self._withdrawn: list[str] = []  # task ids; their submissions no longer count
        self._escalated_task: str | None = None
        self._tasks_held = False  # what coding was last told
        self._resume_status = "assigned"
        self._notices = 0
        self._claims: dict[int, ClaimStatusSignal] = {}  # each claim version's last step
        self._rework_order: ReworkOrder | None = None  # while a rework is being coded
        self._in_backlog = False  # waiting in pools' backlogs for a slot
        self._offer: PoolAssignment | None = None  # the slot one offered, not yet taken

    def _settled(self) -> bool:
        """Codes arrived, or a coder returned the encounter: coding is over either way."""
        return self._submitted is not None or self._returned is not None

    def _finished(self) -> bool:
        return self._settled() or self._cancel is not None

    def _interruption(self) -> Outcome | None:
        if self._submitted is not None:
            return "submitted"
        if self._returned is not None:
            return "returned"
        if self._cancel is not None:
            return "cancelled"
        if self._reassign is not None:
            return "reassign"
        return None

    def _stop_reason(self) -> Literal["on_hold", "query_pending"] | None:
        """Why the SLA clock stands still, if it does."""
        if self._hold is not None:
            return "on_hold"
        if any(q.status == "open" for q in self._queries.values()):
            return "query_pending"
        return None

    async def _short_step(
        self,
        activity: Callable[[Any, A], Awaitable[R]],
        arg: A,
        summary: str,
        patch: str = LOCAL_SHORT_STEPS,
    ) -> R:
        """A short step of database work and a publish, as a local activity: it runs in this
        worker inside the workflow task, so it costs no round trips through the server's
        activity queue (two workflow tasks and an activity task each, before). Histories from
        before `patch` replay with the scheduled activity they recorded."""
        if workflow.patched(patch):
            result: R = await workflow.execute_local_activity_method(
                activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, summary=summary
            )
            return result
        old: R = await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, summary=summary
        )
        return old

    def _set_status(self, status: str) -> None:
        if status == self._status.status:
            return
        self._status.status = status
        self._status.history.append(status)
        workflow.upsert_search_attributes([CODING_STATUS.value_set(status)])
        self._refresh_details()

    def _refresh_details(self) -> None:
        workflow.set_current_details(current_details(self._status, workflow.now()))

    async def _wait_for(self, condition: Any, within: timedelta, summary: str) -> bool:
        """True when `condition` held before `within` (a durable timer) ran out."""
        try:
            await workflow.wait_condition(
                condition, timeout=max(within, SHORTEST_TIMER), timeout_summary=summary
            )
        except TimeoutError:
            return False
        return True

    async def _escalate(self, escalation: EscalationRequest) -> None:
        self._status.escalations.append(
            Escalation(
                escalation_id=escalation.escalation_id, kind=escalation.kind, at=workflow.now()
            )
        )
        workflow.upsert_search_attributes(
            [ESCALATED.value_set(True), ESCALATION_STATUS.value_set("open")]
        )
        self._refresh_details()
        await workflow.execute_activity_method(
            AssignmentActivities.escalate,
            escalation,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            summary=f"escalate: {escalation.kind.replace('_', ' ')}",
        )
