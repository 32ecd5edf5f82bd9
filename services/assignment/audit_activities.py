"""The activities of the pre-bill audit step: the facts sampling reads, the audit task for
coding, and the release of the audited encounter with the audit's final codes."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.assignment.activities import AssignmentActivities, _settle
from services.assignment.audit_db import AuditPolicies
from services.assignment.db import AssignmentRepository, PoolTask, VendorPool
from services.assignment.domain.audit_models import (
    AuditedRelease,
    AuditTaskRequest,
    SamplingRequest,
)
from services.assignment.domain.routing import REQUIRED_CREDENTIALS
from services.assignment.domain.sampling import SamplingFacts
from shared.events import topics
from shared.events.assignment import AuditTaskCreated, EncounterCoded
from shared.events.coding import AuditCompleted, CodingSubmitted
from shared.events.intake import EncounterReceived


class AuditActivities(AssignmentActivities):
    @activity.defn
    async def sampling_facts(self, request: SamplingRequest) -> SamplingFacts:
        """The policy for the coded task's pool and hospital, the coder's record, and the
        encounter's facts; the charges only as over the policy's amount or not (PHI)."""

        def gather(session: Session) -> SamplingFacts:
            repo = AssignmentRepository(session)
            task, submission = (
                session.get(PoolTask, request.task_id),
                repo.submission(request.task_id),
            )
            routed = repo.routed(request.encounter_key)
            if task is None or submission is None or routed is None:
                raise ApplicationError("coded task not found", non_retryable=True)
            policies = AuditPolicies(session)
            policy, source = policies.effective(task.pool_id, request.hospital_id)
            received = EncounterReceived.model_validate_json(routed.received)
            coded = CodingSubmitted.model_validate_json(submission.submitted)
            charges = sum(line.charge for line in received.encounter.charges)
            return SamplingFacts(
                policy=policy,
                policy_source=source,  # type: ignore[arg-type]
                coder=policies.coder_record(request.coder_id, policy.new_coder_audits),
                encounter_class=request.encounter_class,
                charges_above_amount=policy.charges_above is not None
                and charges > policy.charges_above,
                codes=[d.code for d in coded.diagnoses] + [p.code for p in coded.procedures],
            )

        return await self.db.run(gather)

    @activity.defn
    async def publish_audit_task(self, request: AuditTaskRequest) -> None:
        def load(session: Session) -> tuple[EncounterReceived, PoolTask, VendorPool]:
            repo = AssignmentRepository(session)
            routed, task = (
                repo.routed(request.encounter_key),
                session.get(PoolTask, request.task_id),
            )
            pool = session.get(VendorPool, task.pool_id) if task else None
            if routed is None or task is None or pool is None:
                raise ApplicationError("coded task not found", non_retryable=True)
            routed.status = "audit_pending"
            repo.add(routed)
            return EncounterReceived.model_validate_json(routed.received), task, pool

        received, task, pool = await self.db.run(load)
        decision = request.decision
        event = AuditTaskCreated(
            audit_id=request.audit_id,
            encounter_key=request.encounter_key,
            hospital_id=request.hospital_id,
            task_id=request.task_id,
            coder_id=request.coder_id,
            vendor_id=pool.vendor_id,
            pool_id=task.pool_id,
            due_at=request.due_at,
            rule=decision.rule or "none",
            reason=decision.reason,
            credentials=sorted(REQUIRED_CREDENTIALS.get(request.encounter_class, ())),
            prefer_other_vendor=request.prefer_other_vendor,
        )
        await self._publish(topics.CODING_TASKS, event, received, f"audit-{request.audit_id}")

    @activity.defn
    async def release_audited_encounter(self, request: AuditedRelease) -> None:
        """The claim goes out with the audit's final codes, still credited to the coder."""

        def load(session: Session) -> tuple[EncounterReceived, AuditCompleted]:
            result = AuditPolicies(session).result(request.audit_id)
            if result is None:
                raise ApplicationError("audit result not found", non_retryable=True)
            received = _settle(AssignmentRepository(session), request.encounter_key, "coded")
            return received, AuditCompleted.model_validate_json(result.completed)

        received, audited = await self.db.run(load)
        coded = EncounterCoded(
            encounter_key=request.encounter_key,
            hospital_id=received.hospital_id,
            billing_provider=received.billing_provider,
            encounter=received.encounter,
            diagnoses=audited.diagnoses,
            procedures=audited.procedures,
            coder_id=audited.coder_id,
        )
        await self._publish(topics.ENCOUNTERS_CODED, coded, received, f"coded-{request.task_id}")
