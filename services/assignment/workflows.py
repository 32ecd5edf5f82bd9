"""EncounterCoding: route → coding task with an SLA → reassign on breach → release to claims,
or return the encounter to the hospital when a coder cannot code it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from services.assignment.activities import AssignmentActivities
    from services.assignment.domain.models import (
        CodingReturnedSignal,
        CodingStatus,
        CodingSubmittedSignal,
        CodingTaskRequest,
        EncounterCodingInput,
        PoolAssignment,
        ReleaseRequest,
        RouteRequest,
    )

HOSPITAL_ID = SearchAttributeKey.for_keyword("HospitalId")
VENDOR_POOL = SearchAttributeKey.for_keyword("VendorPool")
CODING_STATUS = SearchAttributeKey.for_keyword("CodingStatus")
SLA_DUE_AT = SearchAttributeKey.for_datetime("SlaDueAt")

ACTIVITY_TIMEOUT = timedelta(seconds=30)
NO_POOL_RETRY = timedelta(minutes=5)
OPEN_TASK_RECHECK = timedelta(hours=1)


def workflow_id(encounter_key: str, namespace: str = "") -> str:
    """One workflow per encounter; `namespace` isolates test runs sharing a Temporal server."""
    return f"{namespace}encounter-coding/{encounter_key}"


@workflow.defn
class EncounterCoding:
    def __init__(self) -> None:
        self._status = CodingStatus(encounter_key="", status="starting")
        self._submitted: CodingSubmittedSignal | None = None
        self._returned: CodingReturnedSignal | None = None

    @workflow.run
    async def run(self, request: EncounterCodingInput) -> CodingStatus:
        self._status.encounter_key = request.encounter_key
        tried: list[str] = []
        while not self._settled():
            pool = None
            if self._status.reassignments <= request.max_reassignments:
                pool = await self._route(request, tried)
            if pool is None:
                await self._wait_without_new_pool(request)
                continue
            if await self._assign(request, pool):
                break
            # SLA breached: the task stays open (late work still counts), and another pool is
            # asked to code the encounter too; whichever submits first wins.
            tried.append(pool.pool_id)
            self._status.reassignments += 1
            self._set_status("sla_breached")
        if self._submitted is None:
            return await self._return_to_hospital(request)
        self._set_status("coded")
        await workflow.execute_activity_method(
            AssignmentActivities.release_coded_encounter,
            ReleaseRequest(encounter_key=request.encounter_key, task_id=self._submitted.task_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        self._set_status("released")
        return self._status

    async def _return_to_hospital(self, request: EncounterCodingInput) -> CodingStatus:
        assert self._returned is not None
        await workflow.execute_activity_method(
            AssignmentActivities.return_to_hospital,
            ReleaseRequest(encounter_key=request.encounter_key, task_id=self._returned.task_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        self._set_status("returned")
        return self._status

    async def _route(
        self, request: EncounterCodingInput, tried: list[str]
    ) -> PoolAssignment | None:
        return await workflow.execute_activity_method(
            AssignmentActivities.route_to_pool,
            RouteRequest(
                encounter_key=request.encounter_key,
                encounter_class=request.encounter_class,
                hospital_id=request.hospital_id,
                exclude_pools=tried,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    async def _assign(self, request: EncounterCodingInput, pool: PoolAssignment) -> bool:
        """Publish a coding task to the pool; True when codes arrive within its SLA."""
        task_id = str(workflow.uuid4())
        sla = timedelta(seconds=pool.sla_seconds)
        due_at = workflow.now() + sla
        self._status.pool_id, self._status.task_id, self._status.due_at = (
            pool.pool_id,
            task_id,
            due_at,
        )
        workflow.upsert_search_attributes(
            [VENDOR_POOL.value_set(pool.pool_id), SLA_DUE_AT.value_set(due_at)]
        )
        self._set_status("assigned")
        await workflow.execute_activity_method(
            AssignmentActivities.publish_coding_task,
            CodingTaskRequest(
                task_id=task_id,
                encounter_key=request.encounter_key,
                pool_id=pool.pool_id,
                vendor_id=pool.vendor_id,
                due_at=due_at,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        return await self._wait_for_submission(sla)

    async def _wait_without_new_pool(self, request: EncounterCodingInput) -> None:
        if self._status.task_id is None:
            # Never assigned: no pool has capacity or the credential yet. Nothing can be
            # submitted meanwhile; start afresh when the history grows long.
            self._set_status("waiting_for_pool")
            await asyncio.sleep(NO_POOL_RETRY.total_seconds())
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(request)
            return
        # Breached, and no other pool can take it (or reassignments are used up): keep
        # waiting on the open task, and look for a pool again now and then.
        escalated = self._status.reassignments > request.max_reassignments
        self._set_status("escalated" if escalated else "sla_breached")
        await self._wait_for_submission(OPEN_TASK_RECHECK)

    async def _wait_for_submission(self, within: timedelta) -> bool:
        try:
            await workflow.wait_condition(self._settled, timeout=within)
        except TimeoutError:
            return False
        return True

    def _settled(self) -> bool:
        """Codes arrived, or a coder returned the encounter: either ends the wait."""
        return self._submitted is not None or self._returned is not None

    def _set_status(self, status: str) -> None:
        if status == self._status.status:
            return
        self._status.status = status
        self._status.history.append(status)
        workflow.upsert_search_attributes([CODING_STATUS.value_set(status)])

    @workflow.signal
    def coding_submitted(self, signal: CodingSubmittedSignal) -> None:
        # A late submission from a pool that breached its SLA is still good work: keep the first.
        if self._submitted is None:
            self._submitted = signal

    @workflow.signal
    def coding_returned(self, signal: CodingReturnedSignal) -> None:
        # Codes that arrived first win; a return after them changes nothing.
        if self._submitted is None and self._returned is None:
            self._returned = signal

    @workflow.query
    def status(self) -> CodingStatus:
        return self._status
