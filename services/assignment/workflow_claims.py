"""The EncounterCoding workflow after release: it follows the encounter's claim (signals from
`claims.status`), durably — for weeks if it must — until a final outcome; a coding-caused
denial or rejection comes back as a rework task to the coder who coded it (else their pool),
with its own SLA on the same clock, and the corrected codes are billed as the next claim
version (a replacement claim)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from services.assignment.workflow_state import (
    CLAIM_CHARGE,
    CLAIM_PAID,
    CLAIM_PAYER,
    CLAIM_STATUS,
    CLAIM_VERSION,
    DENIAL_CAUSE,
    EncounterState,
    Outcome,
)

with workflow.unsafe.imports_passed_through():
    from services.assignment.activities import AssignmentActivities
    from services.assignment.domain.claim_models import ClaimStatusSignal, Rework, ReworkOrder
    from services.assignment.domain.claim_verdicts import denial_cause, is_final, needs_rework
    from services.assignment.domain.models import (
        CodingReturnedSignal,
        CodingStatus,
        EncounterCodingInput,
        EscalationRequest,
        PoolAssignment,
        ReleaseRequest,
    )

# The payer denies the claim for coding once more after the reworks allowed: ops are told (the
# claim stays denied; a person decides what next).
ESCALATE_REWORKS_USED_UP = "escalate-reworks-used-up"


class ClaimFollowing(EncounterState):
    # The coding steps a rework goes through again, as EncounterCoding defines them.
    async def _code(self, request: EncounterCodingInput, tried: list[str]) -> None:
        raise NotImplementedError

    async def _assign(self, request: EncounterCodingInput, pool: PoolAssignment) -> Outcome | None:
        raise NotImplementedError

    async def _return_to_hospital(
        self, request: EncounterCodingInput, returned: CodingReturnedSignal
    ) -> CodingStatus:
        raise NotImplementedError

    async def _cancel_encounter(self, request: EncounterCodingInput) -> None:
        raise NotImplementedError

    @workflow.signal
    def claim_status(self, signal: ClaimStatusSignal) -> None:
        known = self._claims.get(signal.version)
        if known is not None and (known.claim_id, known.step) == (signal.claim_id, signal.step):
            return  # redelivered
        if known is not None and known.claim_id == signal.claim_id and known.step > signal.step:
            return  # an older step, late
        self._claims[signal.version] = signal
        if signal.version >= self._status.claim_version:
            self._show_claim(signal)

    def _show_claim(self, claim: ClaimStatusSignal) -> None:
        self._status.claim = claim
        updates: list[SearchAttributeUpdate[Any]] = [
            CLAIM_STATUS.value_set(claim.status),
            CLAIM_VERSION.value_set(claim.version),
            CLAIM_CHARGE.value_set(float(Decimal(claim.total_charge))),
            DENIAL_CAUSE.value_set(denial_cause(claim)),
        ]
        if claim.payer_id:
            updates.append(CLAIM_PAYER.value_set(claim.payer_id))
        if claim.paid is not None:
            updates.append(CLAIM_PAID.value_set(float(Decimal(claim.paid))))
        workflow.upsert_search_attributes(updates)
        self._refresh_details()

    def _verdict(self, version: int) -> ClaimStatusSignal | None:
        claim = self._claims.get(version)
        return claim if claim is not None and is_final(claim) else None

    async def _follow_claim(self, request: EncounterCodingInput) -> None:
        """Wait for each claim version's verdict; rework the coding-caused ones."""
        while True:
            await workflow.wait_condition(
                lambda: self._verdict(self._status.claim_version) is not None
            )
            verdict = self._verdict(self._status.claim_version)
            assert verdict is not None
            if not needs_rework(verdict):
                self._set_status(f"claim_{verdict.status}")
                return
            if len(self._status.reworks) >= request.max_reworks:
                self._set_status(f"claim_{verdict.status}")
                if workflow.patched(ESCALATE_REWORKS_USED_UP):  # before it, nobody was told
                    await self._escalate(
                        EscalationRequest(
                            escalation_id=str(workflow.uuid4()),
                            encounter_key=request.encounter_key,
                            hospital_id=request.hospital_id,
                            kind="reworks_used_up",
                            pool_id=self._status.pool_id,
                            task_id=self._status.task_id,
                        )
                    )
                return
            if not await self._rework(request, verdict):
                return

    async def _rework(self, request: EncounterCodingInput, verdict: ClaimStatusSignal) -> bool:
        """A rework task to the coder who coded the denied claim (their pool, the pool's
        rework SLA), then — like any coding — another pool on breach; the corrected codes are
        billed as the next claim version. False when the encounter went back to the hospital
        or ops cancelled it."""
        denied = self._submitted
        assert denied is not None
        reasons = [i for i in verdict.issues if i.cause == "coding"]
        self._rework_order = ReworkOrder(
            claim_id=verdict.claim_id,
            claim_version=verdict.version,
            denied_task_id=denied.task_id,
            denied_coder_id=denied.coder_id,
            reasons=reasons,
        )
        self._status.reworks.append(
            Rework(
                claim_id=verdict.claim_id,
                claim_version=verdict.version,
                coder_id=denied.coder_id,
                reasons=[i.describe() for i in reasons],
                at=workflow.now(),
            )
        )
        # The coded task is done; a redelivered submission of it no longer counts.
        self._withdrawn.append(denied.task_id)
        self._submitted, self._status.open_task_ids = None, []
        pool = await self._short_step(
            AssignmentActivities.pool_of_task,
            denied.task_id,
            summary=f"rework: the pool of task {denied.task_id[:8]}",
        )
        tried: list[str] = []
        if pool is not None:
            self._named_coder = denied.coder_id
            if await self._assign(request, pool) is None:  # the rework's SLA breached
                tried.append(pool.pool_id)
                self._status.reassignments += 1
                self._set_status("sla_breached")
        await self._code(request, tried)
        self._rework_order = None
        if self._returned is not None:
            await self._return_to_hospital(request, self._returned)
            return False
        if self._submitted is None:
            await self._cancel_encounter(request)
            return False
        self._status.claim_version += 1
        await self._release(request)
        return True

    async def _release(self, request: EncounterCodingInput) -> None:
        assert self._submitted is not None
        self._set_status("coded")
        version = self._status.claim_version
        await self._short_step(
            AssignmentActivities.release_coded_encounter,
            ReleaseRequest(
                encounter_key=request.encounter_key,
                task_id=self._submitted.task_id,
                claim_version=version,
            ),
            summary=f"release the corrected codes to claims as claim version {version}",
        )
        self._set_status("released")
