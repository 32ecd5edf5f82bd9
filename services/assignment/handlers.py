"""Assignment use cases: start one workflow per received encounter, signal coders' work."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import BaseModel
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
from services.assignment.db import (
    AssignmentRepository,
    CodingReturn,
    CodingSubmission,
    RoutedEncounter,
)
from services.assignment.domain.models import (
    CodingReturnedSignal,
    CodingSubmittedSignal,
    EncounterCodingInput,
)
from services.assignment.workflows import HOSPITAL_ID, EncounterCoding, workflow_id
from shared.db import Database
from shared.events.coding import CodingReturned, CodingSubmitted
from shared.events.envelope import Envelope
from shared.events.intake import EncounterReceived
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


class AssignmentHandlers:
    def __init__(self, db: Database, client: Client, settings: ChartflowSettings) -> None:
        self.db = db
        self.client = client
        self.task_queue = settings.topic(TASK_QUEUE)
        self.namespace = settings.chartflow_namespace_prefix

    async def on_encounter_received(self, envelope: Envelope) -> None:
        received = envelope.payload(EncounterReceived)
        await self.db.run(lambda s: remember_encounter(s, received))
        try:
            await self.client.start_workflow(
                EncounterCoding.run,
                EncounterCodingInput(
                    encounter_key=received.encounter_key,
                    hospital_id=received.hospital_id,
                    encounter_class=received.encounter.encounter_class,
                ),
                id=workflow_id(received.encounter_key, self.namespace),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(HOSPITAL_ID, received.hospital_id)]
                ),
            )
            log.info("workflow.started", encounter=received.encounter_key)
        except WorkflowAlreadyStartedError:
            log.info("workflow.already_started", encounter=received.encounter_key)

    async def on_coding_submitted(self, envelope: Envelope) -> None:
        """`coding.events`: codes submitted, or the encounter returned to the hospital."""
        if envelope.type == CodingReturned.event_type:
            await self.on_coding_returned(envelope)
            return
        submitted = envelope.payload(CodingSubmitted)
        await self.db.run(lambda s: remember_submission(s, submitted))
        signal = CodingSubmittedSignal(task_id=submitted.task_id, coder_id=submitted.coder_id)
        await self._signal(submitted.encounter_key, EncounterCoding.coding_submitted, signal)

    async def on_coding_returned(self, envelope: Envelope) -> None:
        returned = envelope.payload(CodingReturned)
        await self.db.run(lambda s: remember_return(s, returned))
        signal = CodingReturnedSignal(task_id=returned.task_id, coder_id=returned.coder_id)
        await self._signal(returned.encounter_key, EncounterCoding.coding_returned, signal)

    async def _signal(self, encounter_key: str, signal: Any, arg: BaseModel) -> None:
        handle = self.client.get_workflow_handle(workflow_id(encounter_key, self.namespace))
        try:
            await handle.signal(signal, arg)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            # The workflow already finished: this is a redelivered or late signal.
            log.info("signal.workflow_closed", encounter=encounter_key)
