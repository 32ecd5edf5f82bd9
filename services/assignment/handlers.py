"""Assignment use cases: start one workflow per received encounter, signal coders' work and the
life of physician queries to it."""

from __future__ import annotations

from typing import Any

import structlog
from sqlmodel import Session
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.assignment import TASK_QUEUE
from services.assignment.audit_db import AuditRecords, AuditResult
from services.assignment.db import (
    AssignmentRepository,
    CodingReturn,
    CodingSubmission,
    QueryRecord,
    RoutedEncounter,
)
from services.assignment.domain.audit_models import AuditCompletedSignal
from services.assignment.domain.claim_models import ClaimStatusSignal
from services.assignment.domain.claim_verdicts import is_passed_by
from services.assignment.domain.details import static_details, static_summary
from services.assignment.domain.models import (
    CodingReturnedSignal,
    CodingSubmittedSignal,
    EncounterCodingInput,
    QueryPolicy,
    QuerySignal,
)
from services.assignment.milestones_db import record_claim_step, record_received
from services.assignment.workflows import (
    ESCALATED,
    HOSPITAL_ID,
    ON_HOLD,
    QUERY_PENDING,
    EncounterCoding,
    workflow_id,
)
from shared.db import Database
from shared.events.claims import ClaimStatusChanged
from shared.events.coding import (
    AuditCompleted,
    CodingReturned,
    CodingSubmitted,
    QueryRaised,
    QueryWithdrawn,
)
from shared.events.envelope import Envelope
from shared.events.intake import EncounterReceived, QueryAnswered
from shared.settings import ChartflowSettings

log = structlog.get_logger()


def remember_encounter(session: Session, received: EncounterReceived) -> None:
    repo = AssignmentRepository(session)
    if repo.routed(received.encounter_key) is None:
        repo.add(
            RoutedEncounter(
                encounter_key=received.encounter_key,
                hospital_id=received.hospital_id,
                received=received.model_dump_json(),
            )
        )
    record_received(session, received)


def remember_return(session: Session, returned: CodingReturned) -> None:
    repo = AssignmentRepository(session)
    if repo.coding_return(returned.task_id) is None:
        repo.add(
            CodingReturn(
                task_id=returned.task_id,
                encounter_key=returned.encounter_key,
                coder_id=returned.coder_id,
                returned=returned.model_dump_json(),
            )
        )


def remember_submission(session: Session, submitted: CodingSubmitted) -> None:
    repo = AssignmentRepository(session)
    if repo.submission(submitted.task_id) is None:
        repo.add(
            CodingSubmission(
                task_id=submitted.task_id,
                encounter_key=submitted.encounter_key,
                coder_id=submitted.coder_id,
                submitted=submitted.model_dump_json(),
            )
        )


def remember_query(session: Session, raised: QueryRaised) -> None:
    """Ids and times only, for the figures: the query's content is PHI and is not kept here."""
    repo = AssignmentRepository(session)
    if repo.query_record(raised.query_id) is None:
        repo.add(
            QueryRecord(
                query_id=raised.query_id,
                encounter_key=raised.encounter_key,
                hospital_id=raised.hospital_id,
                coder_id=raised.coder_id,
                raised_at=raised.raised_at,
            )
        )


def remember_query_closed(session: Session, closed: QueryWithdrawn | QueryAnswered) -> None:
    record = AssignmentRepository(session).query_record(closed.query_id)
    if record is None or record.status != "open":
        return  # not raised here, or closed already (a redelivery)
    if isinstance(closed, QueryAnswered):
        record.status, record.answered_at = "answered", closed.answered_at
    else:
        record.status, record.withdrawn_at = "withdrawn", closed.withdrawn_at
    session.add(record)


def remember_audit(session: Session, completed: AuditCompleted) -> None:
    records = AuditRecords(session)
    if records.result(completed.audit_id) is None:
        session.add(
            AuditResult(
                audit_id=completed.audit_id,
                task_id=completed.task_id,
                encounter_key=completed.encounter_key,
                coder_id=completed.coder_id,
                matched=completed.matched,
                errors=completed.errors,
                completed=completed.model_dump_json(),
            )
        )


class AssignmentHandlers:
    def __init__(
        self,
        db: Database,
        client: Client,
        settings: ChartflowSettings,
        query_policy: QueryPolicy | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.task_queue = settings.topic(TASK_QUEUE)
        self.namespace = settings.chartflow_namespace_prefix
        self.query_policy = query_policy or QueryPolicy()

    async def on_encounter_received(self, envelope: Envelope) -> None:
        received = envelope.payload(EncounterReceived)
        await self.db.run(lambda s: remember_encounter(s, received))
        request = EncounterCodingInput(
            encounter_key=received.encounter_key,
            hospital_id=received.hospital_id,
            encounter_class=received.encounter.encounter_class,
            query_policy=self.query_policy,
        )
        try:
            await self.client.start_workflow(
                EncounterCoding.run,
                request,
                id=workflow_id(received.encounter_key, self.namespace),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # Set from the start so saved views can filter on "= false".
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(HOSPITAL_ID, received.hospital_id),
                        SearchAttributePair(QUERY_PENDING, False),
                        SearchAttributePair(ON_HOLD, False),
                        SearchAttributePair(ESCALATED, False),
                    ]
                ),
                static_summary=static_summary(request),
                static_details=static_details(request),
            )
            log.info("workflow.started", encounter=received.encounter_key)
        except WorkflowAlreadyStartedError:
            log.info("workflow.already_started", encounter=received.encounter_key)

    async def on_coding_submitted(self, envelope: Envelope) -> None:
        """`coding.events`: codes submitted, the encounter returned to the hospital, or an
        audit completed."""
        if envelope.type == CodingReturned.event_type:
            await self.on_coding_returned(envelope)
            return
        if envelope.type == AuditCompleted.event_type:
            await self.on_audit_completed(envelope)
            return
        submitted = envelope.payload(CodingSubmitted)
        await self.db.run(lambda s: remember_submission(s, submitted))
        signal = CodingSubmittedSignal(task_id=submitted.task_id, coder_id=submitted.coder_id)
        await self._signal(submitted.encounter_key, EncounterCoding.coding_submitted, signal)

    async def on_audit_completed(self, envelope: Envelope) -> None:
        """An audit's final codes: kept for the release and the coder's record, then the
        workflow hears of it."""
        completed = envelope.payload(AuditCompleted)
        await self.db.run(lambda s: remember_audit(s, completed))
        signal = AuditCompletedSignal(audit_id=completed.audit_id, task_id=completed.task_id)
        await self._signal(completed.encounter_key, EncounterCoding.audit_completed, signal)

    async def on_coding_returned(self, envelope: Envelope) -> None:
        returned = envelope.payload(CodingReturned)
        await self.db.run(lambda s: remember_return(s, returned))
        signal = CodingReturnedSignal(task_id=returned.task_id, coder_id=returned.coder_id)
        await self._signal(returned.encounter_key, EncounterCoding.coding_returned, signal)

    async def on_physician_query(self, envelope: Envelope) -> None:
        """`physician.queries`: a query raised or withdrawn by a coder."""
        if envelope.type == QueryWithdrawn.event_type:
            withdrawn = envelope.payload(QueryWithdrawn)
            await self.db.run(lambda s: remember_query_closed(s, withdrawn))
            signal = QuerySignal(
                query_id=withdrawn.query_id,
                task_id=withdrawn.task_id,
                coder_id=withdrawn.coder_id,
            )
            await self._signal(withdrawn.encounter_key, EncounterCoding.query_withdrawn, signal)
            return
        raised = envelope.payload(QueryRaised)
        await self.db.run(lambda s: remember_query(s, raised))
        signal = QuerySignal(
            query_id=raised.query_id, task_id=raised.task_id, coder_id=raised.coder_id
        )
        await self._signal(raised.encounter_key, EncounterCoding.query_raised, signal)

    async def on_query_answered(self, envelope: Envelope) -> None:
        """`physician.answers`: the hospital's physician answered."""
        answered = envelope.payload(QueryAnswered)
        await self.db.run(lambda s: remember_query_closed(s, answered))
        await self._signal(
            answered.encounter_key,
            EncounterCoding.query_answered,
            QuerySignal(query_id=answered.query_id),
        )

    async def on_claim_status(self, envelope: Envelope) -> None:
        """`claims.status`: a step of the encounter's claim, which its workflow follows."""
        change = envelope.payload(ClaimStatusChanged)
        signal = ClaimStatusSignal.of(change)
        # Billed when claims recorded the step (the event's time), not when this consumer got
        # to it: after a lag or a restart the two are minutes apart.
        await self.db.run(
            lambda s: record_claim_step(s, change.encounter_key, change.status, envelope.time)
        )
        await self._signal(change.encounter_key, EncounterCoding.claim_status, signal)

    @staticmethod
    def claim_status_passed(older: Envelope, newer: Envelope) -> bool:
        """`claims.status` events of one encounter waiting together: the workflow is told only
        the newest step of a claim (and every final one)."""
        kind = ClaimStatusChanged.event_type
        return older.type == newer.type == kind and is_passed_by(older.data, newer.data)

    async def _signal(self, encounter_key: str, signal: Any, arg: Any) -> None:
        handle = self.client.get_workflow_handle(workflow_id(encounter_key, self.namespace))
        try:
            await handle.signal(signal, arg)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            # The workflow already finished: this is a redelivered or late signal.
            log.info("signal.workflow_closed", encounter=encounter_key)
