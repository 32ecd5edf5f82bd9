"""The activities of the pre-bill audit step: the facts sampling reads and the audit task for
coding (the release with the audit's final codes is `release_coded_encounter`'s)."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.assignment.activities import AssignmentActivities
from services.assignment.audit_db import AuditRecords
from services.assignment.db import AssignmentRepository, PoolTask, VendorPool
from services.assignment.domain.audit_models import AuditTaskRequest, SamplingRequest
from services.assignment.domain.routing import REQUIRED_CREDENTIALS
from services.assignment.domain.sampling import SamplingFacts
from shared.events import topics
from shared.events.assignment import AuditTaskCreated
from shared.events.coding import CodingSubmitted
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
            records = AuditRecords(session)
            policy, source = records.effective(task.pool_id, request.hospital_id)
            received = EncounterReceived.model_validate_json(routed.received)
            coded = CodingSubmitted.model_validate_json(submission.submitted)
            charges = sum(line.charge for line in received.encounter.charges)
            window = policy.new_coder_audits if policy else 0
            limit = policy.charges_above if policy else None
            return SamplingFacts(
                policy=policy,
                policy_source=source,  # type: ignore[arg-type]
                coder=records.coder_record(request.coder_id, window),
                encounter_class=request.encounter_class,
                charges_above_amount=limit is not None and charges > limit,
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
        await self._publish(
            topics.CODING_TASKS,
            event,
            (request.encounter_key, received.hospital_id),
            f"audit-{request.audit_id}",
        )
