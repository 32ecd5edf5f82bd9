"""Assignment's activities: all the I/O the EncounterCoding workflow needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from services.assignment import SERVICE
from services.assignment.audit_db import AuditRecords
from services.assignment.backlog import RESEND_OFFER, Backlog, leave_backlogs, pool_assignment
from services.assignment.db import (
    AssignmentRepository,
    EscalationEntry,
    PoolTask,
    RoutedEncounter,
)
from services.assignment.domain.models import (
    BacklogPlace,
    CancelRequest,
    CodingTaskRequest,
    EscalationRequest,
    PoolAssignment,
    QueryFollowUp,
    ReleaseRequest,
    RouteRequest,
    TaskNotice,
    WithdrawRequest,
)
from services.assignment.domain.routing import route_to_pool
from services.assignment.milestones_db import record_closed, record_coded
from services.assignment.reworks import rework_details
from shared.db import Database
from shared.events import topics
from shared.events.assignment import (
    CodingChart,
    CodingTaskCreated,
    CodingTaskHeld,
    CodingTaskRescheduled,
    CodingTaskResumed,
    CodingTaskWithdrawn,
    EncounterCancelled,
    EncounterCoded,
    EncounterEscalated,
    EncounterReturned,
    QueryEscalated,
    QueryReminded,
)
from shared.events.coding import AuditCompleted, CodingReturned, CodingSubmitted
from shared.events.envelope import Envelope, EventData
from shared.events.intake import EncounterReceived
from shared.kafka import Publisher
from shared.settings import ChartflowSettings

WithdrawReason = Literal["reassigned", "cancelled", "coded_elsewhere", "returned"]


def _routed(repo: AssignmentRepository, encounter_key: str) -> RoutedEncounter:
    routed = repo.routed(encounter_key)
    if routed is None:
        raise ApplicationError(f"no encounter {encounter_key}", non_retryable=True)
    return routed


def _close_tasks(repo: AssignmentRepository, task_ids: list[str]) -> set[str]:
    """The pools whose capacity the closed tasks free (closed already on a retry: the retry
    dispatches them again)."""
    freed = set()
    for task in repo.tasks(task_ids):
        freed.add(task.pool_id)
        task.open = False  # frees the pool's capacity
        repo.add(task)
    return freed


class AssignmentActivities:
    def __init__(
        self,
        db: Database,
        publisher: Publisher,
        settings: ChartflowSettings,
        client: Client,
        backlog: Backlog | None = None,
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.settings = settings
        self.backlog = backlog or Backlog(db, client, settings)

    @activity.defn
    async def route_to_pool(self, request: RouteRequest) -> PoolAssignment | None:
        profiles = await self.db.run(lambda s: AssignmentRepository(s).pool_profiles())
        pool = route_to_pool(
            profiles, request.encounter_class, request.hospital_id, request.exclude_pools
        )
        if pool is None:
            return None
        return PoolAssignment(
            pool_id=pool.pool_id,
            vendor_id=pool.vendor_id,
            sla_seconds=pool.sla_seconds,
            rework_sla_seconds=pool.rework_sla_seconds,
        )

    @activity.defn
    async def join_backlog(self, request: RouteRequest) -> BacklogPlace:
        """Wait in the backlog of every pool that may take the encounter (no capacity now)."""
        return await self.backlog.join(request, self._resend_after())

    @activity.defn
    async def pool_assignment(self, pool_id: str) -> PoolAssignment | None:
        """The pool ops named, whatever its capacity (an ops decision overrides routing)."""
        pool = await self.db.run(lambda s: AssignmentRepository(s).pool(pool_id))
        return pool_assignment(pool) if pool is not None else None

    @activity.defn
    async def pool_of_task(self, task_id: str) -> PoolAssignment | None:
        """The pool a task was given to (a rework goes back to it), if it still exists."""

        def find(session: Session) -> PoolAssignment | None:
            repo = AssignmentRepository(session)
            task = session.get(PoolTask, task_id)
            pool = repo.pool(task.pool_id) if task is not None else None
            return pool_assignment(pool) if pool is not None else None

        return await self.db.run(find)

    @activity.defn
    async def publish_coding_task(self, request: CodingTaskRequest) -> None:
        def assign(session: Session) -> tuple[EncounterReceived, set[str]]:
            given_back = leave_backlogs(session, request.encounter_key, request.pool_id)
            repo = AssignmentRepository(session)
            routed = _routed(repo, request.encounter_key)
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
            return EncounterReceived.model_validate_json(routed.received), given_back

        received, given_back = await self.db.run(assign)
        await self._dispatch(given_back)  # ops sent it elsewhere than its offer
        rework = None
        if request.rework is not None:
            order = request.rework
            rework = await self.db.run(lambda s: rework_details(s, order))
        task = CodingTaskCreated(
            task_id=request.task_id,
            encounter_key=request.encounter_key,
            hospital_id=received.hospital_id,
            vendor_id=request.vendor_id,
            pool_id=request.pool_id,
            due_at=request.due_at,
            chart=CodingChart.of(received.encounter),
            coder_id=request.coder_id,
            rework=rework,
        )
        await self._publish(
            topics.CODING_TASKS,
            task,
            (request.encounter_key, received.hospital_id),
            f"task-{request.task_id}",
        )

    @activity.defn
    async def notify_tasks(self, notice: TaskNotice) -> None:
        hospital_id = await self._hospital_of(notice.encounter_key)
        for task_id in notice.task_ids:
            key = {"task_id": task_id, "encounter_key": notice.encounter_key}
            event: EventData
            if notice.notice == "held":
                event = CodingTaskHeld(**key)
            elif notice.notice == "resumed":
                event = CodingTaskResumed(**key, due_at=notice.due_at)
            else:
                event = CodingTaskRescheduled(**key, due_at=notice.due_at)
            event_id = f"{notice.notice}-{task_id}-{notice.sequence}"
            await self._publish(
                topics.CODING_TASKS, event, (notice.encounter_key, hospital_id), event_id
            )

    @activity.defn
    async def withdraw_tasks(self, request: WithdrawRequest) -> None:
        def close(session: Session) -> tuple[str, set[str]]:
            repo = AssignmentRepository(session)
            freed = _close_tasks(repo, request.task_ids)
            return _routed(repo, request.encounter_key).hospital_id, freed

        hospital_id, freed = await self.db.run(close)
        await self._dispatch(freed)
        await self._withdraw(request.encounter_key, hospital_id, request.task_ids, request.reason)

    @activity.defn
    async def cancel_encounter(self, request: CancelRequest) -> None:
        def cancel(session: Session) -> tuple[str, set[str]]:
            repo = AssignmentRepository(session)
            routed = _routed(repo, request.encounter_key)
            routed.status, routed.updated_at = "cancelled", datetime.now(UTC)
            repo.add(routed)
            record_closed(session, request.encounter_key, "cancelled")
            freed = _close_tasks(repo, request.task_ids)
            freed |= leave_backlogs(session, request.encounter_key)
            action = repo.ops_action(request.action_id) if request.action_id else None
            return (action.reason if action else ""), freed

        reason, freed = await self.db.run(cancel)
        await self._dispatch(freed)
        to = (request.encounter_key, request.hospital_id)
        await self._withdraw(*to, request.task_ids, "cancelled")
        cancelled = EncounterCancelled(
            encounter_key=request.encounter_key,
            hospital_id=request.hospital_id,
            reason=reason,
        )
        await self._publish(
            topics.ASSIGNMENT_EVENTS, cancelled, to, f"cancelled-{request.encounter_key}"
        )

    @activity.defn
    async def remind_hospital(self, follow_up: QueryFollowUp) -> None:
        reminded = QueryReminded(
            query_id=follow_up.query_id,
            encounter_key=follow_up.encounter_key,
            hospital_id=follow_up.hospital_id,
            reminder=follow_up.reminder,
            raised_at=follow_up.raised_at,
        )
        event_id = f"query-reminder-{follow_up.query_id}-{follow_up.reminder}"
        await self._publish(
            topics.ASSIGNMENT_EVENTS,
            reminded,
            (follow_up.encounter_key, follow_up.hospital_id),
            event_id,
        )

    @activity.defn
    async def escalate(self, request: EscalationRequest) -> None:
        """List the escalation for ops and announce it (to the hospital's CDI contact when a
        query went unanswered)."""

        def record(session: Session) -> None:
            repo = AssignmentRepository(session)
            if repo.escalation(request.escalation_id) is not None:  # a retried activity
                return
            query_id = request.query.query_id if request.query else None
            repo.add(
                EscalationEntry(
                    id=request.escalation_id,
                    encounter_key=request.encounter_key,
                    hospital_id=request.hospital_id,
                    kind=request.kind,
                    pool_id=request.pool_id,
                    task_id=request.task_id,
                    query_id=query_id,
                )
            )
            record = repo.query_record(query_id) if query_id else None
            if record is not None:
                record.escalated_at = datetime.now(UTC)
                repo.add(record)

        await self.db.run(record)
        event: EventData
        if request.query is not None:
            event = QueryEscalated(
                query_id=request.query.query_id,
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                escalation_id=request.escalation_id,
                reminders_sent=request.query.reminder,
                raised_at=request.query.raised_at,
            )
        else:
            assert request.kind != "query_unanswered"
            event = EncounterEscalated(
                escalation_id=request.escalation_id,
                encounter_key=request.encounter_key,
                hospital_id=request.hospital_id,
                reason=request.kind,
                pool_id=request.pool_id,
                task_id=request.task_id,
                due_at=request.due_at,
            )
        await self._publish(
            topics.ASSIGNMENT_EVENTS,
            event,
            (request.encounter_key, request.hospital_id),
            f"escalation-{request.escalation_id}",
        )

    @activity.defn
    async def release_coded_encounter(self, request: ReleaseRequest) -> None:
        def load(
            session: Session,
        ) -> tuple[EncounterReceived, CodingSubmitted | AuditCompleted, list[str], set[str]]:
            repo = AssignmentRepository(session)
            submission = repo.submission(request.task_id)
            audit = AuditRecords(session).result(request.audit_id) if request.audit_id else None
            if submission is None or (request.audit_id and audit is None):
                raise ApplicationError("coded encounter not found", non_retryable=True)
            received, closed, freed = _settle(repo, request.encounter_key, "coded")
            record_coded(session, request.encounter_key, submission.received_at)
            others = [task_id for task_id in closed if task_id != request.task_id]
            if audit is not None:  # the audit's final codes, still credited to the coder
                completed = AuditCompleted.model_validate_json(audit.completed)
                return received, completed, others, freed
            submitted = CodingSubmitted.model_validate_json(submission.submitted)
            return received, submitted, others, freed

        received, submitted, others, freed = await self.db.run(load)
        await self._dispatch(freed)
        coded = EncounterCoded(
            encounter_key=request.encounter_key,
            hospital_id=received.hospital_id,
            billing_provider=received.billing_provider,
            encounter=received.encounter,
            diagnoses=submitted.diagnoses,
            procedures=submitted.procedures,
            coder_id=submitted.coder_id,
            claim_version=request.claim_version,
        )
        await self._publish(
            topics.ENCOUNTERS_CODED,
            coded,
            (request.encounter_key, received.hospital_id),
            f"coded-{request.task_id}",
        )
        # Another pool's task may still be on a worklist: nothing is left to do there.
        await self._withdraw(request.encounter_key, received.hospital_id, others, "coded_elsewhere")

    async def _dispatch(self, pool_ids: set[str]) -> None:
        """Freed capacity to the pools' backlogs; a retried activity may have lost its offers'
        signals, so it sends every untaken one again."""
        await self.backlog.dispatch(pool_ids, self._resend_after())

    def _resend_after(self) -> timedelta:
        return timedelta(0) if activity.info().attempt > 1 else RESEND_OFFER

    async def _withdraw(
        self, encounter_key: str, hospital_id: str, task_ids: list[str], reason: WithdrawReason
    ) -> None:
        for task_id in task_ids:
            withdrawn = CodingTaskWithdrawn(
                task_id=task_id, encounter_key=encounter_key, reason=reason
            )
            await self._publish(
                topics.CODING_TASKS, withdrawn, (encounter_key, hospital_id), f"withdrawn-{task_id}"
            )

    async def _hospital_of(self, encounter_key: str) -> str:
        return await self.db.run(
            lambda s: _routed(AssignmentRepository(s), encounter_key).hospital_id
        )

    @activity.defn
    async def return_to_hospital(self, request: ReleaseRequest) -> None:
        def load(
            session: Session,
        ) -> tuple[EncounterReceived, CodingReturned, list[str], set[str]]:
            repo = AssignmentRepository(session)
            returned = repo.coding_return(request.task_id)
            if returned is None:
                raise ApplicationError("returned encounter not found", non_retryable=True)
            received, closed, freed = _settle(repo, request.encounter_key, "returned")
            record_closed(session, request.encounter_key, "returned")
            others = [task_id for task_id in closed if task_id != request.task_id]
            return received, CodingReturned.model_validate_json(returned.returned), others, freed

        received, returned, others, freed = await self.db.run(load)
        await self._dispatch(freed)
        event = EncounterReturned(
            encounter_key=request.encounter_key,
            hospital_id=received.hospital_id,
            task_id=request.task_id,
            reason=returned.reason,
            note=returned.note,
        )
        to = (request.encounter_key, received.hospital_id)
        await self._publish(topics.ENCOUNTERS_RETURNED, event, to, f"returned-{request.task_id}")
        # Another pool's task may still be on a worklist: nothing is left to do there.
        await self._withdraw(*to, others, "returned")

    async def _publish(
        self, topic: str, data: EventData, to: tuple[str, str], event_id: str
    ) -> None:
        """Publish to (encounter key, hospital id). Event ids derive from stable workflow
        values: a retried activity publishes a duplicate that the consumers' inboxes ignore."""
        encounter_key, hospital_id = to
        envelope = Envelope.wrap(
            data, source=SERVICE, subject=encounter_key, tenant=hospital_id, id=event_id
        )
        await self.publisher.publish(self.settings.topic(topic), envelope)


def _settle(
    repo: AssignmentRepository, encounter_key: str, status: str
) -> tuple[EncounterReceived, list[str], set[str]]:
    """The encounter's coding is over: its open tasks (their ids) free their pools' capacity
    (the pools')."""
    routed = _routed(repo, encounter_key)
    routed.status = status
    repo.add(routed)
    closed = [task.task_id for task in repo.open_tasks(encounter_key)]
    freed = _close_tasks(repo, closed) | ({routed.pool_id} if routed.pool_id else set())
    return EncounterReceived.model_validate_json(routed.received), closed, freed
