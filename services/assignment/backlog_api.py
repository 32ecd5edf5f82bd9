"""Backlogs over HTTP (admins): each pool's backlog against its capacity, and the hospitals'
priorities that weigh their turns in every pool's backlog."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.assignment.backlog import Backlog
from services.assignment.backlog_db import pool_backlogs
from services.assignment.db import HospitalPriority, VendorPool
from services.assignment.domain.backlog import DEFAULT_PRIORITY
from shared.http import AdminOnly, IdPath, RuntimeDep

router = APIRouter()


class PoolBacklogView(BaseModel):
    pool_id: str
    capacity: int
    open_tasks: int
    offered: int = Field(description="slots offered to waiting encounters, task not yet out")
    waiting: int
    oldest_waiting_since: datetime | None


class HospitalPriorityIn(BaseModel):
    priority: int = Field(
        default=DEFAULT_PRIORITY,
        ge=1,
        le=10,
        description="the hospital's weight in each pool's turns among encounters of the same "
        "discharge day: a priority-2 hospital gets two turns for each of a priority-1 one",
    )


@router.get("/v1/backlogs", dependencies=[AdminOnly])
async def backlogs(rt: RuntimeDep) -> list[PoolBacklogView]:
    """Per pool: encounters waiting for capacity, the oldest wait, capacity and open tasks."""
    return [PoolBacklogView(**vars(b)) for b in await rt.db.run(pool_backlogs)]


@router.put("/v1/admin/hospitals/{hospital_id}/priority", dependencies=[AdminOnly])
async def put_hospital_priority(
    hospital_id: IdPath, body: HospitalPriorityIn, rt: RuntimeDep
) -> HospitalPriorityIn:
    row = HospitalPriority(hospital_id=hospital_id, priority=body.priority)
    await rt.db.run(lambda s: s.merge(row))
    return body


async def pool_changed(request: Request, pool: VendorPool) -> None:
    """A pool put with more capacity (or new) takes from its backlog at once."""
    backlog: Backlog = request.app.state.backlog
    await backlog.dispatch([pool.id])
