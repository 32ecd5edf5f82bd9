"""Assignment's HTTP API (ops and admins): vendor pools, the coding status of an encounter, ops
controls on it, escalations and physician query figures."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.assignment.backlog_api import pool_changed
from services.assignment.db import OpsActionEntry, VendorPool
from services.assignment.domain.models import (
    CodingStatus,
    ExtendSlaRequest,
    OpsRequest,
    ReassignRequest,
)
from services.assignment.domain.query_figures import QueryFigures
from services.assignment.ops import EncounterOps, OpsRefused
from services.assignment.saved_views import saved_views
from shared.events.bounds import IDENTIFIER, NOTE_TEXT, Credential, PlainName, PoolId
from shared.events.intake import EncounterClass
from shared.http import AdminOnly, IdPath, RuntimeDep, problem_response

router = APIRouter()
TEMPORAL_DOWN: dict[int | str, dict[str, Any]] = {
    503: problem_response("Temporal did not answer; retry later")
}


class PoolIn(BaseModel):
    id: PoolId
    vendor_id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    name: PlainName = Field(min_length=1, max_length=100)
    credentials: list[Credential] = Field(min_length=1, max_length=10)
    encounter_classes: list[EncounterClass] = Field(min_length=1, max_length=4)
    hospitals: list[PoolId] = Field(default_factory=list, max_length=1000)
    capacity: int = Field(default=100, ge=1, le=100_000)
    sla_seconds: int = Field(default=86_400, ge=1, le=365 * 86_400)
    rework_sla_seconds: int | None = Field(
        default=None,
        ge=1,
        le=365 * 86_400,
        description="How long the coder has to rework a coding-caused denial (default: "
        "sla_seconds)",
    )


class OpsActionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    encounter_key: str
    action: str
    detail: str
    by: str
    reason: str
    at: datetime


class EscalationView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    encounter_key: str
    hospital_id: str
    kind: str
    pool_id: str | None
    task_id: str | None
    query_id: str | None
    created_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str | None


class AcknowledgeIn(BaseModel):
    by: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    note: str = Field(default="", max_length=500, pattern=NOTE_TEXT)


def encounter_ops(request: Request) -> EncounterOps:
    ops: EncounterOps = request.app.state.ops
    return ops


OpsDep = Annotated[EncounterOps, Depends(encounter_ops)]


async def _steer(control: Awaitable[OpsActionEntry]) -> OpsActionView:
    try:
        entry = await control
    except OpsRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return OpsActionView.model_validate(entry)


@router.put("/v1/admin/pools/{pool_id}", dependencies=[AdminOnly])
async def put_pool(pool_id: IdPath, body: PoolIn, rt: RuntimeDep, request: Request) -> PoolIn:
    if pool_id != body.id:
        raise HTTPException(422, "id in the path and the body differ")
    row = VendorPool(
        id=body.id,
        vendor_id=body.vendor_id,
        name=body.name,
        credentials=",".join(body.credentials),
        encounter_classes=",".join(body.encounter_classes),
        hospitals=",".join(body.hospitals),
        capacity=body.capacity,
        sla_seconds=body.sla_seconds,
        rework_sla_seconds=body.rework_sla_seconds,
    )
    await rt.db.run(lambda s: s.merge(row))
    await pool_changed(request, row)
    return body


@router.get("/v1/coding-status/{encounter_key}", dependencies=[AdminOnly], responses=TEMPORAL_DOWN)
async def coding_status(encounter_key: IdPath, ops: OpsDep) -> CodingStatus:
    try:
        return await ops.status(encounter_key)
    except OpsRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc


# Ops controls: each is recorded with who and why, then signalled to the workflow (202: it
# acts on it at once; read the coding status to see the effect).
CONTROL: dict[str, Any] = {
    "status_code": 202,
    "dependencies": [AdminOnly],
    "responses": {
        409: problem_response("The control does not apply to the encounter now"),
        **TEMPORAL_DOWN,
    },
}


@router.post("/v1/encounters/{encounter_key}/reassign", **CONTROL)
async def reassign(encounter_key: IdPath, body: ReassignRequest, ops: OpsDep) -> OpsActionView:
    """To another pool (`pool_id`) or to a named coder of the current pool's vendor
    (`coder_id`); the open task is withdrawn from its worklist."""
    return await _steer(ops.reassign(encounter_key, body))


@router.post("/v1/encounters/{encounter_key}/hold", **CONTROL)
async def hold(encounter_key: IdPath, body: OpsRequest, ops: OpsDep) -> OpsActionView:
    """The task leaves the worklist and the SLA clock stops until the hold is released."""
    return await _steer(ops.hold(encounter_key, body))


@router.post("/v1/encounters/{encounter_key}/release", **CONTROL)
async def release_hold(encounter_key: IdPath, body: OpsRequest, ops: OpsDep) -> OpsActionView:
    """Release a hold: the task is back on the worklist, due later by the time held."""
    return await _steer(ops.release_hold(encounter_key, body))


@router.post("/v1/encounters/{encounter_key}/cancel", **CONTROL)
async def cancel(encounter_key: IdPath, body: OpsRequest, ops: OpsDep) -> OpsActionView:
    """The encounter will not be coded or billed; its tasks are withdrawn."""
    return await _steer(ops.cancel(encounter_key, body))


@router.post("/v1/encounters/{encounter_key}/extend-sla", **CONTROL)
async def extend_sla(encounter_key: IdPath, body: ExtendSlaRequest, ops: OpsDep) -> OpsActionView:
    return await _steer(ops.extend_sla(encounter_key, body))


@router.get("/v1/escalations", dependencies=[AdminOnly])
async def escalations(
    ops: OpsDep,
    acknowledged: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EscalationView]:
    """Newest first: SLA breaches nobody else can take, queries unanswered after reminders."""
    return [EscalationView.model_validate(e) for e in await ops.escalations(acknowledged, limit)]


@router.post(
    "/v1/escalations/{escalation_id}/acknowledge",
    dependencies=[AdminOnly],
    responses={409: problem_response("Acknowledged already"), **TEMPORAL_DOWN},
)
async def acknowledge(escalation_id: IdPath, body: AcknowledgeIn, ops: OpsDep) -> EscalationView:
    try:
        entry = await ops.acknowledge(escalation_id, body.by, body.note)
    except OpsRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return EscalationView.model_validate(entry)


@router.get("/v1/saved-views", dependencies=[AdminOnly])
async def views() -> dict[str, str]:
    """The Temporal UI list filters ops save as views, with their times filled in for now."""
    return saved_views(datetime.now(UTC))


@router.get("/v1/query-figures", dependencies=[AdminOnly])
async def figures(ops: OpsDep, by: Literal["hospital", "coder"] = "hospital") -> list[QueryFigures]:
    """Physician queries raised, open, answered, withdrawn and escalated, with the response
    time (raised → answered) p50 and p90 in seconds, per hospital or per coder."""
    return await ops.query_figures(by)
