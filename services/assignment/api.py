"""Assignment's HTTP API (ops and admins): vendor pools and the coding status of an encounter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.assignment.db import VendorPool
from services.assignment.domain.models import CodingStatus
from services.assignment.workflows import EncounterCoding, workflow_id
from shared.events.bounds import Credential, PlainName, PoolId
from shared.events.intake import EncounterClass
from shared.http import AdminOnly, IdPath, RuntimeDep, SettingsDep, problem_response

router = APIRouter()


class PoolIn(BaseModel):
    id: PoolId
    vendor_id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    name: PlainName = Field(min_length=1, max_length=100)
    credentials: list[Credential] = Field(min_length=1, max_length=10)
    encounter_classes: list[EncounterClass] = Field(min_length=1, max_length=4)
    hospitals: list[PoolId] = Field(default_factory=list, max_length=1000)
    capacity: int = Field(default=100, ge=1, le=100_000)
    sla_seconds: int = Field(default=86_400, ge=1, le=365 * 86_400)


def temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


TemporalDep = Annotated[Client, Depends(temporal_client)]


@router.put("/v1/admin/pools/{pool_id}", dependencies=[AdminOnly])
async def put_pool(pool_id: IdPath, body: PoolIn, rt: RuntimeDep) -> PoolIn:
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
    )
    await rt.db.run(lambda s: s.merge(row))
    return body


@router.get(
    "/v1/coding-status/{encounter_key}",
    dependencies=[AdminOnly],
    responses={503: problem_response("Temporal did not answer; retry later")},
)
async def coding_status(
    encounter_key: IdPath, client: TemporalDep, settings: SettingsDep
) -> CodingStatus:
    handle = client.get_workflow_handle(
        workflow_id(encounter_key, settings.chartflow_namespace_prefix)
    )
    try:
        return await handle.query(EncounterCoding.status)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"no coding workflow for {encounter_key}") from exc
        raise HTTPException(503, f"workflow status unavailable: {exc.status.name}") from exc
