"""EncounterCoding: route → coding task with an SLA → reassign on breach → release to claims,
or return the encounter to the hospital when a coder cannot code it.

Its parts, one idea each: the state it keeps (`workflow_state`), the SLA clock that physician
queries and holds stop (`workflow_sla`), each query's reminders and escalation
(`workflow_queries`), the ops controls (`workflow_ops`), the pre-bill audit of a sampled
encounter between "coded" and "released" (`workflow_audit`), and following the claim after
release, with the rework of coding-caused denials (`workflow_claims`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from temporalio import workflow

from services.assignment.workflow_audit import PreBillAudit
from services.assignment.workflow_claims import ClaimFollowing
from services.assignment.workflow_ops import OpsControls
from services.assignment.workflow_queries import PhysicianQueries
from services.assignment.workflow_sla import SlaClock
from services.assignment.workflow_state import (
    ACTIVITY_TIMEOUT,
    CODING_STATUS,
    ESCALATED,
    ESCALATION_STATUS,
    HOSPITAL_ID,
    ON_HOLD,
    QUERY_OPEN_SINCE,
    QUERY_PENDING,
    SLA_DUE_AT,
    VENDOR_POOL,
    Outcome,
)

with workflow.unsafe.imports_passed_through():
    from services.assignment.activities import AssignmentActivities
    from services.assignment.domain.models import (
        BacklogPlace,
        CancelRequest,
        CodingReturnedSignal,
        CodingStatus,
        CodingSubmittedSignal,
        CodingTaskRequest,
        EncounterCodingInput,
        EscalationRequest,
        PoolAssignment,
        ReleaseRequest,
        RouteRequest,
        WithdrawRequest,
    )

__all__ = [
    "CODING_STATUS",
    "ESCALATED",
    "ESCALATION_STATUS",
    "HOSPITAL_ID",
    "ON_HOLD",
    "QUERY_OPEN_SINCE",
    "QUERY_PENDING",
    "SLA_DUE_AT",
    "VENDOR_POOL",
    "EncounterCoding",
    "workflow_id",
]

NO_POOL_RETRY = timedelta(minutes=5)  # no pool may take it at all: look again now and then
# Waiting in pools' backlogs the workflow is signalled when a slot is offered; this timer only
# backs that up (it joins again, which also returns an offer whose signal was lost).
BACKLOG_BACKSTOP = timedelta(hours=1)
# Patches: a running workflow that reached these points under the old code keeps its path.
ESCALATE_AT_ONCE = "escalate-breach-at-once"
WITHDRAW_REASSIGNED = "withdraw-reassigned-task"
FOLLOW_CLAIM = "follow-claim-after-release"
WAIT_IN_BACKLOG = "wait-in-pool-backlog"  # before it, a 5-minute look for a pool again
# Joining the backlogs as a local activity, in the workflow task that found no pool with room:
# a 10,000-encounter burst spent an activity task and a workflow task more on each.
JOIN_BACKLOG_LOCALLY = "join-backlog-locally"


def workflow_id(encounter_key: str, namespace: str = "") -> str:
    """One workflow per encounter; `namespace` isolates test runs sharing a Temporal server."""
    return f"{namespace}encounter-coding/{encounter_key}"


def _route_request(request: EncounterCodingInput, tried: list[str]) -> RouteRequest:
    return RouteRequest(
        encounter_key=request.encounter_key,
        encounter_class=request.encounter_class,
        hospital_id=request.hospital_id,
        exclude_pools=tried,
    )


@workflow.defn
class EncounterCoding(SlaClock, PhysicianQueries, OpsControls, PreBillAudit, ClaimFollowing):
    @workflow.init
    def __init__(self, request: EncounterCodingInput) -> None:
        super().__init__(request)

    @workflow.run
    async def run(self, request: EncounterCodingInput) -> CodingStatus:
        self._status.encounter_key = request.encounter_key
        await self._code(request, [])
        if self._returned is not None:
            return await self._return_to_hospital(request, self._returned)
        if self._submitted is None:
            await self._cancel_encounter(request)
            return self._status
        self._set_status("coded")
        audited = await self._audit_before_release(request)
        if self._audit_cancelled():
            await self._cancel_encounter(request)
            return self._status
        await self._short_step(
            AssignmentActivities.release_coded_encounter,
            ReleaseRequest(
                encounter_key=request.encounter_key,
                task_id=self._submitted.task_id,
                audit_id=audited.audit_id if audited else None,
            ),
            summary="release the coded encounter to claims",
        )
        self._set_status("released")
        if workflow.patched(FOLLOW_CLAIM):  # histories from before it ended at release
            await self._follow_claim(request)
        return self._status

    async def _code(self, request: EncounterCodingInput, tried: list[str]) -> None:
        """Route and assign until codes arrive, a coder returns the encounter or ops cancel."""
        while self._interruption() not in ("submitted", "returned", "cancelled"):
            pool = await self._next_pool(request, tried)
            if pool is None:
                await self._wait_without_new_pool(request, tried)
                continue
            if await self._assign(request, pool) is not None:
                continue  # coded, returned, cancelled, or ops reassigned it
            # SLA breached: another pool is asked (the breached task is withdrawn then), or
            # the task stays open when none can take it (late work still counts).
            tried.append(pool.pool_id)
            self._status.reassignments += 1
            self._set_status("sla_breached")

    async def _return_to_hospital(
        self, request: EncounterCodingInput, returned: CodingReturnedSignal
    ) -> CodingStatus:
        await workflow.execute_activity_method(
            AssignmentActivities.return_to_hospital,
            ReleaseRequest(encounter_key=request.encounter_key, task_id=returned.task_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            summary="return the encounter to the hospital",
        )
        self._set_status("returned")
        return self._status

    async def _next_pool(
        self, request: EncounterCodingInput, tried: list[str]
    ) -> PoolAssignment | None:
        if self._reassign is not None:
            return await self._reassign_by_ops(request)
        if self._offer is not None:  # a slot a pool's backlog offered (never in old histories)
            offer, self._offer = self._offer, None
            return offer
        if self._status.reassignments > request.max_reassignments:
            return None
        pool = await self._route(request, tried)
        if pool and self._status.open_task_ids and workflow.patched(WITHDRAW_REASSIGNED):
            await self._withdraw_open_tasks(request, "reassigned")
        return pool

    async def _route(
        self, request: EncounterCodingInput, tried: list[str]
    ) -> PoolAssignment | None:
        return await self._short_step(
            AssignmentActivities.route_to_pool,
            _route_request(request, tried),
            summary="route to a pool" + (f" other than {', '.join(tried)}" if tried else ""),
        )

    async def _reassign_by_ops(self, request: EncounterCodingInput) -> PoolAssignment | None:
        order, self._reassign = self._reassign, None
        assert order is not None
        await self._withdraw_open_tasks(request, "reassigned")
        if order.pool_id is None:
            self._named_coder = order.coder_id  # the same pool, the coder ops named
            return self._pool
        pool = await self._short_step(
            AssignmentActivities.pool_assignment,
            order.pool_id,
            summary=f"look up pool {order.pool_id}",
        )
        return pool or await self._route(request, [])  # the pool went away meanwhile

    async def _assign(self, request: EncounterCodingInput, pool: PoolAssignment) -> Outcome | None:
        """Publish a coding task to the pool and wait on it; None when its SLA is breached."""
        task_id = str(workflow.uuid4())
        self._offer = None  # assigned: an offer not taken (ops sent it elsewhere) is void
        rework = self._rework_order
        sla = (pool.rework_sla_seconds if rework else None) or pool.sla_seconds
        due_at = workflow.now() + timedelta(seconds=sla)
        self._pool = pool
        self._status.pool_id, self._status.task_id, self._status.due_at = (
            pool.pool_id,
            task_id,
            due_at,
        )
        self._status.open_task_ids.append(task_id)
        workflow.upsert_search_attributes(
            [VENDOR_POOL.value_set(pool.pool_id), SLA_DUE_AT.value_set(due_at)]
        )
        self._set_status("rework_assigned" if rework else "assigned")
        coder_id, self._named_coder = self._named_coder, None
        await self._short_step(
            AssignmentActivities.publish_coding_task,
            CodingTaskRequest(
                task_id=task_id,
                encounter_key=request.encounter_key,
                pool_id=pool.pool_id,
                vendor_id=pool.vendor_id,
                due_at=due_at,
                coder_id=coder_id,
                rework=rework,
            ),
            summary=f"{'rework' if rework else 'coding'} task to pool {pool.pool_id}"
            + (f", coder {coder_id}" if coder_id else ""),
        )
        return await self._wait_on_task(sla_clock=True)

    async def _wait_without_new_pool(self, request: EncounterCodingInput, tried: list[str]) -> None:
        if self._status.task_id is None:
            # Never assigned: no pool has capacity or the credential yet. Nothing can be
            # submitted meanwhile; start afresh when the history grows long.
            self._set_status("waiting_for_pool")
            if workflow.patched(WAIT_IN_BACKLOG):
                await self._wait_in_backlog(request, tried)
            else:
                await self._wait_for(
                    lambda: self._interruption() is not None, NO_POOL_RETRY, "look for a pool again"
                )
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(request)
            return
        # Breached, and no other pool can take it (or reassignments are used up): tell ops at
        # once, keep waiting on the open task, and look for a pool again now and then.
        used_up = self._status.reassignments > request.max_reassignments
        if workflow.patched(ESCALATE_AT_ONCE):
            if self._escalated_task != self._status.task_id:  # once per breached task
                self._escalated_task = self._status.task_id
                await self._escalate_breach(request, used_up)
        else:
            self._set_status("escalated" if used_up else "sla_breached")
        await self._wait_on_task(sla_clock=False)

    async def _wait_in_backlog(self, request: EncounterCodingInput, tried: list[str]) -> None:
        """Queue in the backlogs of the pools that may take it until one offers a slot."""
        self._in_backlog = True
        place: BacklogPlace = await self._short_step(
            AssignmentActivities.join_backlog,
            _route_request(request, tried),
            summary="wait in the backlog of the pools that may take it",
            patch=JOIN_BACKLOG_LOCALLY,
        )
        self._offer = self._offer or place.offered
        if place.pool_ids:
            within, summary = BACKLOG_BACKSTOP, "no offer from a backlog yet: join again"
        else:
            within, summary = NO_POOL_RETRY, "no pool may take it: look for a pool again"
        await self._wait_for(
            lambda: self._interruption() is not None or self._offer is not None, within, summary
        )
        self._in_backlog = False

    async def _escalate_breach(self, request: EncounterCodingInput, used_up: bool) -> None:
        kind: Literal["no_other_pool", "reassignments_used_up"] = (
            "reassignments_used_up" if used_up else "no_other_pool"
        )
        self._set_status("escalated")
        await self._escalate(
            EscalationRequest(
                escalation_id=str(workflow.uuid4()),
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                kind=kind,
                pool_id=self._status.pool_id,
                task_id=self._status.task_id,
                due_at=self._status.due_at,
            )
        )

    async def _withdraw_open_tasks(
        self, request: EncounterCodingInput, reason: Literal["reassigned", "cancelled"]
    ) -> None:
        tasks, self._status.open_task_ids = list(self._status.open_task_ids), []
        self._withdrawn += tasks
        self._tasks_held = False
        if tasks:
            await workflow.execute_activity_method(
                AssignmentActivities.withdraw_tasks,
                WithdrawRequest(encounter_key=request.encounter_key, task_ids=tasks, reason=reason),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                summary=f"withdraw {len(tasks)} task(s) from worklists: {reason}",
            )

    async def _cancel_encounter(self, request: EncounterCodingInput) -> None:
        assert self._cancel is not None
        tasks, self._status.open_task_ids = list(self._status.open_task_ids), []
        self._withdrawn += tasks
        await workflow.execute_activity_method(
            AssignmentActivities.cancel_encounter,
            CancelRequest(
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                task_ids=tasks,
                action_id=self._cancel.action_id,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            summary="cancel: withdraw the tasks, tell the hospital",
        )
        self._set_status("cancelled")

    @workflow.signal
    def coding_submitted(self, signal: CodingSubmittedSignal) -> None:
        # A late submission from a pool that breached its SLA is still good work: keep the
        # first. A task that was withdrawn no longer counts.
        if not self._settled() and signal.task_id not in self._withdrawn:
            self._submitted = signal

    @workflow.signal
    def pool_offered(self, offer: PoolAssignment) -> None:
        # Offers are signalled again until taken: only the first, while waiting, counts.
        if self._in_backlog and self._offer is None:
            self._offer = offer

    @workflow.signal
    def coding_returned(self, signal: CodingReturnedSignal) -> None:
        # Codes that arrived first win; a return after them, or from a withdrawn task, changes
        # nothing.
        if self._settled() or signal.task_id in self._withdrawn:
            return
        self._returned = signal

    @workflow.query
    def status(self) -> CodingStatus:
        return self._status
