"""The pre-bill audit step of EncounterCoding, between "coded" and "released": sample the coded
encounter (decided here, from facts an activity gathers, with a draw from the ids), and when
sampled, hand it to an auditor and wait for the final codes under the audit's own SLA: a breach
escalates to ops, and the claim still waits for the audit."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from services.assignment.workflow_state import ACTIVITY_TIMEOUT, SLA_DUE_AT, EncounterState

with workflow.unsafe.imports_passed_through():
    from services.assignment.audit_activities import AuditActivities
    from services.assignment.domain.audit_models import (
        AuditCompletedSignal,
        AuditStatus,
        AuditTaskRequest,
        SamplingRequest,
    )
    from services.assignment.domain.models import EncounterCodingInput, EscalationRequest
    from services.assignment.domain.sampling import decide_sampling, sampling_draw

#: A running workflow that was coded before this step existed releases as it would have.
PRE_BILL_AUDIT = "pre-bill-audit"


class PreBillAudit(EncounterState):
    def __init__(self, request: EncounterCodingInput) -> None:
        super().__init__(request)
        self._audited: AuditCompletedSignal | None = None

    async def _audit_before_release(
        self, request: EncounterCodingInput
    ) -> AuditCompletedSignal | None:
        """The audit's outcome when the encounter was sampled (after waiting for it), else
        None: release the coder's codes (or, when ops cancelled the audited encounter, stop)."""
        if self._submitted is None or not workflow.patched(PRE_BILL_AUDIT):
            return None
        coded = self._submitted
        facts = await self._short_step(
            AuditActivities.sampling_facts,
            SamplingRequest(
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                encounter_class=request.encounter_class,
                task_id=coded.task_id,
                coder_id=coded.coder_id,
            ),
            summary="gather the audit sampling facts",
        )
        decision = decide_sampling(facts, sampling_draw(request.encounter_key, coded.task_id))
        audit = self._status.audit = AuditStatus(
            decision=decision, policy_source=facts.policy_source
        )
        self._refresh_details()
        if not decision.audit or facts.policy is None:
            return None
        audit.audit_id = str(workflow.uuid4())
        audit.due_at = workflow.now() + timedelta(seconds=facts.policy.audit_sla_seconds)
        workflow.upsert_search_attributes([SLA_DUE_AT.value_set(audit.due_at)])
        self._set_status("audit_pending")
        await workflow.execute_activity_method(
            AuditActivities.publish_audit_task,
            AuditTaskRequest(
                audit_id=audit.audit_id,
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                encounter_class=request.encounter_class,
                task_id=coded.task_id,
                coder_id=coded.coder_id,
                due_at=audit.due_at,
                decision=decision,
                prefer_other_vendor=facts.policy.prefer_other_vendor,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            summary=f"audit task ({decision.rule}: {decision.reason})",
        )
        if not await self._wait_for(
            self._audit_over,
            audit.due_at - workflow.now(),
            f"audit due {audit.due_at:%Y-%m-%d %H:%M:%S} UTC",
        ):
            await self._audit_overdue(request, audit)
            await workflow.wait_condition(self._audit_over)
        if self._audited is None:
            return None  # cancelled by ops
        audit.completed = True
        self._set_status("audited")
        return self._audited

    def _audit_over(self) -> bool:
        return self._audited is not None or self._cancel is not None

    def _audit_cancelled(self) -> bool:
        """Ops cancelled the encounter while its audit was open."""
        audit = self._status.audit
        return audit is not None and audit.audit_id is not None and not audit.completed

    async def _audit_overdue(self, request: EncounterCodingInput, audit: AuditStatus) -> None:
        audit.overdue = True
        self._set_status("audit_overdue")
        await self._escalate(
            EscalationRequest(
                escalation_id=str(workflow.uuid4()),
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                kind="audit_overdue",
                task_id=self._submitted.task_id if self._submitted else None,
                due_at=audit.due_at,
            )
        )

    @workflow.signal
    def audit_completed(self, signal: AuditCompletedSignal) -> None:
        audit = self._status.audit
        if audit is not None and signal.audit_id == audit.audit_id and self._audited is None:
            self._audited = signal
