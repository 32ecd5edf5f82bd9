"""The pre-bill audit step of EncounterCoding, between "coded" and "released": sample the coded
encounter (decided here, from facts an activity gathers, with a draw from the ids), and when
sampled, hand it to an auditor and wait for the final codes under the audit's own SLA."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.assignment.audit_activities import AuditActivities
    from services.assignment.domain.audit_models import (
        AuditCompletedSignal,
        AuditStatus,
        AuditTaskRequest,
        SamplingRequest,
    )
    from services.assignment.domain.models import (
        CodingStatus,
        CodingSubmittedSignal,
        EncounterCodingInput,
    )
    from services.assignment.domain.sampling import decide_sampling, sampling_draw

#: A running workflow that was coded before this step existed releases as it would have.
PRE_BILL_AUDIT = "pre-bill-audit"
ACTIVITY_TIMEOUT = timedelta(seconds=30)


class PreBillAudit:
    _status: CodingStatus
    _submitted: CodingSubmittedSignal | None
    _audited: AuditCompletedSignal | None = None

    def _set_status(self, status: str) -> None:
        raise NotImplementedError

    async def _audit_before_release(
        self, request: EncounterCodingInput
    ) -> AuditCompletedSignal | None:
        """The audit's outcome when the encounter was sampled (after waiting for it), else
        None: release the coder's codes."""
        if self._submitted is None or not workflow.patched(PRE_BILL_AUDIT):
            return None
        coded = self._submitted
        facts = await workflow.execute_activity_method(
            AuditActivities.sampling_facts,
            SamplingRequest(
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                encounter_class=request.encounter_class,
                task_id=coded.task_id,
                coder_id=coded.coder_id,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        decision = decide_sampling(facts, sampling_draw(request.encounter_key, coded.task_id))
        audit = AuditStatus(decision=decision, policy_source=facts.policy_source)
        self._status.audit = audit
        if not decision.audit or facts.policy is None:
            return None
        audit.audit_id = str(workflow.uuid4())
        audit.due_at = workflow.now() + timedelta(seconds=facts.policy.audit_sla_seconds)
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
        )
        try:
            await workflow.wait_condition(
                lambda: self._audited is not None, timeout=audit.due_at - workflow.now()
            )
        except TimeoutError:
            # The audit's SLA is breached: ops see it; the claim still waits for the audit.
            audit.overdue = True
            self._set_status("audit_overdue")
            await workflow.wait_condition(lambda: self._audited is not None)
        audit.completed = True
        self._set_status("audited")
        return self._audited

    @workflow.signal
    def audit_completed(self, signal: AuditCompletedSignal) -> None:
        audit = self._status.audit
        if audit is not None and signal.audit_id == audit.audit_id and self._audited is None:
            self._audited = signal
