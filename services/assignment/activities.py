"""Assignment's activities: all the I/O the EncounterCoding workflow needs."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.assignment import SERVICE
from services.assignment.db import AssignmentRepository, PoolTask
from services.assignment.domain.models import (
    CodingTaskRequest,
    PoolAssignment,
    ReleaseRequest,
    RouteRequest,
)
from services.assignment.domain.routing import route_to_pool
from shared.db import Database
from shared.events import topics
from shared.events.assignment import (
    CodingChart,
    CodingTaskCreated,
    EncounterCoded,
    EncounterReturned,
)
from shared.events.coding import CodingReturned, CodingSubmitted
from shared.events.envelope import Envelope, EventData
from shared.events.intake import EncounterReceived
from shared.kafka import Publisher
from shared.settings import ChartflowSettings


class AssignmentActivities:
    def __init__(self, db: Database, publisher: Publisher, settings: ChartflowSettings) -> None:
        self.db = db
        self.publisher = publisher
        self.settings = settings

    @activity.defn
    async def route_to_pool(self, request: RouteRequest) -> PoolAssignment | None:
        profiles = await self.db.run(lambda s: AssignmentRepository(s).pool_profiles())
        pool = route_to_pool(
            profiles, request.encounter_class, request.hospital_id, request.exclude_pools
        )
        if pool is None:
            return None
        return PoolAssignment(
            pool_id=pool.pool_id, vendor_id=pool.vendor_id, sla_seconds=pool.sla_seconds
        )

    @activity.defn
    async def publish_coding_task(self, request: CodingTaskRequest) -> None:
        def assign(session: Session) -> EncounterReceived:
            repo = AssignmentRepository(session)
            routed = repo.routed(request.encounter_key)
            if routed is None:
                raise ApplicationError(f"no encounter {request.encounter_key}", non_retryable=True)
            routed.pool_id, routed.status = request.pool_id, "assigned"
            repo.add(routed)
            if session.get(PoolTask, request.task_id) is None:  # a retried activity
                repo.add(
                    PoolTask(
                        task_id=request.task_id,
                        encounter_key=request.encounter_key,
                        pool_id=request.pool_id,
                    )
                )
            return EncounterReceived.model_validate_json(routed.received)

        received = await self.db.run(assign)
        task = CodingTaskCreated(
            task_id=request.task_id,
            encounter_key=request.encounter_key,
            hospital_id=received.hospital_id,
            vendor_id=request.vendor_id,
            pool_id=request.pool_id,
            due_at=request.due_at,
            chart=CodingChart.of(received.encounter),
        )
        await self._publish(topics.CODING_TASKS, task, received, f"task-{request.task_id}")

    @activity.defn
    async def release_coded_encounter(self, request: ReleaseRequest) -> None:
        def load(session: Session) -> tuple[EncounterReceived, CodingSubmitted]:
            repo = AssignmentRepository(session)
            submission = repo.submission(request.task_id)
            if submission is None:
                raise ApplicationError("coded encounter not found", non_retryable=True)
            received = _settle(repo, request.encounter_key, "coded")
            return received, CodingSubmitted.model_validate_json(submission.submitted)

        received, submitted = await self.db.run(load)
        coded = EncounterCoded(
            encounter_key=request.encounter_key,
            hospital_id=received.hospital_id,
            billing_provider=received.billing_provider,
            encounter=received.encounter,
            diagnoses=submitted.diagnoses,
            procedures=submitted.procedures,
            coder_id=submitted.coder_id,
        )
        await self._publish(topics.ENCOUNTERS_CODED, coded, received, f"coded-{request.task_id}")

    @activity.defn
    async def return_to_hospital(self, request: ReleaseRequest) -> None:
        def load(session: Session) -> tuple[EncounterReceived, CodingReturned]:
            repo = AssignmentRepository(session)
            returned = repo.coding_return(request.task_id)
            if returned is None:
                raise ApplicationError("returned encounter not found", non_retryable=True)
            received = _settle(repo, request.encounter_key, "returned")
            return received, CodingReturned.model_validate_json(returned.returned)

        received, returned = await self.db.run(load)
        event = EncounterReturned(
            encounter_key=request.encounter_key,
            hospital_id=received.hospital_id,
            task_id=request.task_id,
            reason=returned.reason,
            note=returned.note,
        )
        await self._publish(
            topics.ENCOUNTERS_RETURNED, event, received, f"returned-{request.task_id}"
        )

    async def _publish(
        self, topic: str, data: EventData, received: EncounterReceived, event_id: str
    ) -> None:
        # Event ids derive from the task id: a retried activity publishes a duplicate that the
        # consumers' inboxes ignore.
        envelope = Envelope.wrap(
            data,
            source=SERVICE,
            subject=received.encounter_key,
            tenant=received.hospital_id,
            id=event_id,
        )
        await self.publisher.publish(self.settings.topic(topic), envelope)


def _settle(repo: AssignmentRepository, encounter_key: str, status: str) -> EncounterReceived:
    """The encounter's coding is over: its open tasks free their pools' capacity."""
    routed = repo.routed(encounter_key)
    if routed is None:
        raise ApplicationError(f"no encounter {encounter_key}", non_retryable=True)
    routed.status = status
    repo.add(routed)
    for task in repo.open_tasks(encounter_key):
        task.open = False
        repo.add(task)
    return EncounterReceived.model_validate_json(routed.received)
