"""Ops use cases: steer a running encounter (reassign, hold, release, cancel, extend its SLA),
read and acknowledge escalations, and physician query figures. Every control is recorded with
who asked and why, then signalled to the encounter's workflow: who, and the record's id (the
reason is free text that may name what the chart says: it stays in this database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.assignment.db import AssignmentRepository, EscalationEntry, OpsActionEntry
from services.assignment.domain.models import (
    CodingStatus,
    EscalationAck,
    ExtendSlaRequest,
    OpsRequest,
    ReassignRequest,
)
from services.assignment.domain.query_figures import QueryFigures, QueryLife, query_figures
from services.assignment.workflows import EncounterCoding, workflow_id
from shared.db import Database
from shared.settings import ChartflowSettings

FINISHED = ("coded", "released", "returned", "cancelled")


def _saved(session: Session, entry: OpsActionEntry) -> int | None:
    session.add(entry)
    session.flush()  # its id, for the answer and the signal
    return entry.id


class OpsRefused(Exception):
    """The control does not apply now; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class EncounterOps:
    def __init__(self, db: Database, client: Client, settings: ChartflowSettings) -> None:
        self.db = db
        self.client = client
        self.namespace = settings.chartflow_namespace_prefix

    async def status(self, encounter_key: str) -> CodingStatus:
        """The workflow's status, its ops actions with the reasons stored here."""
        handle = self.client.get_workflow_handle(workflow_id(encounter_key, self.namespace))
        try:
            status: CodingStatus = await handle.query(EncounterCoding.status)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise OpsRefused(404, f"no coding workflow for {encounter_key}") from exc
            raise OpsRefused(503, f"workflow status unavailable: {exc.status.name}") from exc
        if status.ops_actions:
            entries = await self.db.run(
                lambda s: AssignmentRepository(s).ops_actions(encounter_key)
            )
            reasons = {e.id: e.reason for e in entries}
            for action in status.ops_actions:
                action.reason = reasons.get(action.action_id)
        return status

    async def reassign(self, encounter_key: str, request: ReassignRequest) -> OpsActionEntry:
        if (request.pool_id is None) == (request.coder_id is None):
            raise OpsRefused(422, "name either pool_id or coder_id")
        status = await self._running(encounter_key)
        if request.pool_id is not None:
            pool = await self.db.run(lambda s: AssignmentRepository(s).pool(request.pool_id or ""))
            if pool is None:
                raise OpsRefused(422, f"pool_id: no pool {request.pool_id}")
            if request.pool_id == status.pool_id:
                raise OpsRefused(409, f"already with pool {request.pool_id}; name a coder instead")
        elif status.pool_id is None:
            raise OpsRefused(409, "not assigned to a pool yet: reassign to a pool")
        detail = f"pool {request.pool_id}" if request.pool_id else f"coder {request.coder_id}"
        return await self._control(encounter_key, "reassign", detail, request, status)

    async def hold(self, encounter_key: str, request: OpsRequest) -> OpsActionEntry:
        status = await self._running(encounter_key)
        if status.on_hold:
            raise OpsRefused(409, "already on hold")
        return await self._control(encounter_key, "hold", "", request, status)

    async def release_hold(self, encounter_key: str, request: OpsRequest) -> OpsActionEntry:
        status = await self._running(encounter_key)
        if not status.on_hold:
            raise OpsRefused(409, "not on hold")
        return await self._control(encounter_key, "release", "", request, status)

    async def cancel(self, encounter_key: str, request: OpsRequest) -> OpsActionEntry:
        status = await self._running(encounter_key)
        return await self._control(encounter_key, "cancel", "", request, status)

    async def extend_sla(self, encounter_key: str, request: ExtendSlaRequest) -> OpsActionEntry:
        status = await self._running(encounter_key)
        if not status.sla_running:
            raise OpsRefused(409, f"no SLA running ({status.status}): reassign instead")
        detail = f"{request.seconds} s"
        return await self._control(encounter_key, "extend_sla", detail, request, status)

    async def escalations(self, acknowledged: bool | None, limit: int) -> list[EscalationEntry]:
        return await self.db.run(lambda s: AssignmentRepository(s).escalations(acknowledged, limit))

    async def acknowledge(self, escalation_id: str, by: str, note: str) -> EscalationEntry:
        def acknowledge(session: Session) -> EscalationEntry:
            entry = AssignmentRepository(session).escalation(escalation_id)
            if entry is None:
                raise OpsRefused(404, f"no escalation {escalation_id}")
            if entry.acknowledged_at is not None:
                raise OpsRefused(409, f"acknowledged by {entry.acknowledged_by} already")
            entry.acknowledged_by, entry.note = by, note
            entry.acknowledged_at = datetime.now(UTC)
            session.add(entry)
            return entry

        entry = await self.db.run(acknowledge)
        ack = EscalationAck(escalation_id=escalation_id, by=by)
        try:
            await self._signal(entry.encounter_key, EncounterCoding.escalation_acknowledged, ack)
        except OpsRefused as exc:
            if exc.status != 409:
                raise
            # The encounter finished since: the acknowledgement stands in the list.
        return entry

    async def query_figures(self, by: Literal["hospital", "coder"]) -> list[QueryFigures]:
        records = await self.db.run(lambda s: AssignmentRepository(s).query_records())
        lives = [
            QueryLife(
                hospital_id=r.hospital_id,
                coder_id=r.coder_id,
                status=r.status,
                raised_at=r.raised_at,
                answered_at=r.answered_at,
                escalated=r.escalated_at is not None,
            )
            for r in records
        ]
        return query_figures(lives, by)

    async def _running(self, encounter_key: str) -> CodingStatus:
        status = await self.status(encounter_key)
        # claim_*: the claim reached its outcome (the workflow ended at it)
        if status.status in FINISHED or status.status.startswith("claim_"):
            raise OpsRefused(409, f"the encounter is {status.status}: nothing to steer")
        return status

    async def _control(
        self,
        encounter_key: str,
        action: str,
        detail: str,
        request: OpsRequest,
        status: CodingStatus,
    ) -> OpsActionEntry:
        entry = OpsActionEntry(
            encounter_key=encounter_key,
            action=action,
            detail=detail,
            by=request.by,
            reason=request.reason,
        )
        action_id = await self.db.run(lambda s: _saved(s, entry))
        signal = {
            "reassign": EncounterCoding.reassign,
            "hold": EncounterCoding.hold,
            "release": EncounterCoding.release_hold,
            "cancel": EncounterCoding.cancel,
            "extend_sla": EncounterCoding.extend_sla,
        }[action]
        await self._signal(encounter_key, signal, request.signal(action_id))
        return entry

    async def _signal(self, encounter_key: str, signal: Any, arg: Any) -> None:
        handle = self.client.get_workflow_handle(workflow_id(encounter_key, self.namespace))
        try:
            await handle.signal(signal, arg)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise OpsRefused(409, "the encounter's workflow has finished") from exc
            raise OpsRefused(503, f"workflow unavailable: {exc.status.name}") from exc
