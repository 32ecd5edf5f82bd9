"""Coding's HTTP API: a coder's worklist, the chart, and code submission."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Security
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from services.coding import handlers
from services.coding.db import Coder, CodingRepository, CodingTask
from services.coding.domain import search_codes
from shared.events.bounds import NOTE_TEXT, Credential, PlainName, PoolId
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import ReturnReason
from shared.http import (
    AdminOnly,
    IdPath,
    RuntimeDep,
    SettingsDep,
    api_key_owner,
    api_key_scheme,
    problem,
    problem_response,
)

WORKBENCH = Path(__file__).with_name("static") / "workbench.html"
router = APIRouter()


class CoderIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    vendor_id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    name: PlainName = Field(min_length=1, max_length=100)
    pools: list[PoolId] = Field(min_length=1, max_length=20)
    credentials: list[Credential] = Field(min_length=1, max_length=10)
    role: str = Field(default="coder", pattern="^(coder|auditor)$")


class CodesIn(BaseModel):
    diagnoses: list[DiagnosisCode] = Field(min_length=1, max_length=25)
    procedures: list[ProcedureCode] = Field(default_factory=list, max_length=50)
    confirm_warnings: bool = False


class ReturnIn(BaseModel):
    reason: ReturnReason
    note: str | None = Field(default=None, max_length=500, pattern=NOTE_TEXT)


class TaskSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    encounter_key: str
    pool_id: str
    status: str
    due_at: datetime

    @classmethod
    def of(cls, task: CodingTask) -> TaskSummary:
        return cls.model_validate(task)


CODER_KEY = api_key_scheme("CoderApiKey", "The coder's API key")


async def current_coder(
    rt: RuntimeDep, x_api_key: Annotated[str | None, Security(CODER_KEY)] = None
) -> Coder:
    return await api_key_owner(rt, x_api_key, lambda s, h: CodingRepository(s).coder_by_key_hash(h))


CurrentCoder = Annotated[Coder, Depends(current_coder)]


@router.post("/v1/admin/coders", status_code=201, dependencies=[AdminOnly])
async def register_coder(body: CoderIn, rt: RuntimeDep) -> dict[str, str]:
    api_key = await rt.db.run(
        lambda s: handlers.register_coder(
            s, body.id, body.vendor_id, body.name, body.pools, body.credentials, body.role
        )
    )
    return {"coder_id": body.id, "api_key": api_key}


@router.get("/workbench", include_in_schema=False)
async def workbench() -> FileResponse:
    """The coders' web workbench: worklist, chart, code search and entry with findings."""
    return FileResponse(WORKBENCH, media_type="text/html")


@router.get("/v1/codes/search")
async def code_search(
    _coder: CurrentCoder,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    hits = await asyncio.to_thread(search_codes, q, limit)
    return [{"code": h.code, "description": h.description, "billable": h.billable} for h in hits]


@router.get("/v1/worklist")
async def worklist(coder: CurrentCoder, rt: RuntimeDep) -> list[TaskSummary]:
    tasks = await rt.db.run(lambda s: CodingRepository(s).worklist(coder.id))
    return [TaskSummary.of(t) for t in tasks]


@router.get("/v1/tasks/{task_id}")
async def get_task(task_id: IdPath, coder: CurrentCoder, rt: RuntimeDep) -> dict[str, Any]:
    try:
        task, chart = await rt.db.run(lambda s: handlers.open_chart(s, coder, task_id))
    except handlers.TaskNotFound as exc:
        raise HTTPException(404, f"no task {task_id} on your worklist") from exc
    return {"task": TaskSummary.of(task).model_dump(mode="json"), "chart": chart}


@router.post(
    "/v1/tasks/{task_id}/codes",
    status_code=202,
    response_model=TaskSummary,
    responses={409: problem_response("The task was already submitted or returned")},
)
async def submit_codes(
    task_id: IdPath, body: CodesIn, coder: CurrentCoder, rt: RuntimeDep, settings: SettingsDep
) -> TaskSummary | JSONResponse:
    submission = handlers.Submission(body.diagnoses, body.procedures, body.confirm_warnings)
    try:
        task = await rt.db.run(
            lambda s: handlers.submit_codes(s, settings, coder, task_id, submission)
        )
    except handlers.TaskNotFound as exc:
        raise HTTPException(404, f"no task {task_id} on your worklist") from exc
    except (handlers.TaskClosed, IntegrityError) as exc:
        # IntegrityError: a concurrent submission of the same task committed first.
        raise HTTPException(409, f"task {task_id} was already submitted") from exc
    except handlers.CodesRejected as exc:
        errors = [f for f in exc.findings if f["severity"] == "error"]
        detail = (
            f"{len(errors)} error(s) block submission"
            if errors
            else "warnings need confirmation: resend with confirm_warnings true"
        )
        return problem(422, "Codes not accepted", detail, findings=exc.findings)
    return TaskSummary.of(task)


@router.post(
    "/v1/tasks/{task_id}/return",
    status_code=202,
    response_model=TaskSummary,
    responses={409: problem_response("The task was already submitted or returned")},
)
async def return_task(
    task_id: IdPath, body: ReturnIn, coder: CurrentCoder, rt: RuntimeDep, settings: SettingsDep
) -> TaskSummary:
    """Return an encounter that cannot be coded to the hospital, with the reason."""
    try:
        task = await rt.db.run(
            lambda s: handlers.return_task(s, settings, coder, task_id, body.reason, body.note)
        )
    except handlers.TaskNotFound as exc:
        raise HTTPException(404, f"no task {task_id} on your worklist") from exc
    except (handlers.TaskClosed, IntegrityError) as exc:
        raise HTTPException(409, f"task {task_id} was already submitted or returned") from exc
    return TaskSummary.of(task)
