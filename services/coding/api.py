"""Coding's HTTP API: a coder's worklist, the chart, code submission and physician queries;
vendors' views."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Security
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from services.coding import handlers, physician_queries, reworks
from services.coding.audit_db import AuditRepository
from services.coding.db import Coder, CodingRepository, CodingTask
from services.coding.domain import search_codes
from services.coding.domain.queries import Indicator, QueryDraft, QueryFormat, YesNoUse
from shared.events.bounds import NOTE_TEXT, Credential, PlainName, PoolId
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import QueryIndicator, ReturnReason
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
from shared.http.access import RouteName

WORKBENCH = Path(__file__).with_name("static") / "workbench.html"
router = APIRouter()


class CoderIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    vendor_id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    name: PlainName = Field(min_length=1, max_length=100)
    pools: list[PoolId] = Field(min_length=1, max_length=20)
    credentials: list[Credential] = Field(min_length=1, max_length=10)
    role: str = Field(default="coder", pattern="^(coder|auditor|vendor_manager)$")


class CodesIn(BaseModel):
    diagnoses: list[DiagnosisCode] = Field(min_length=1, max_length=25)
    procedures: list[ProcedureCode] = Field(default_factory=list, max_length=50)
    confirm_warnings: bool = False


class ReturnIn(BaseModel):
    reason: ReturnReason
    note: str | None = Field(default=None, max_length=500, pattern=NOTE_TEXT)


class QueryIn(BaseModel):
    """A physician query: the clinical indicators quoted from the chart (document index in the
    chart as `GET /v1/tasks/{id}` shows it, character position, exact text), the question and
    its format. Multiple choice offers clinically supported options plus "Other" and
    "Clinically undetermined"; yes/no says which allowed use it serves."""

    question: str = Field(min_length=10, max_length=4_000, pattern=NOTE_TEXT)
    format: Literal["open_ended", "multiple_choice", "yes_no"]
    indicators: list[QueryIndicator] = Field(default_factory=list, max_length=20)
    options: list[Annotated[str, Field(min_length=1, max_length=300, pattern=NOTE_TEXT)]] = Field(
        default_factory=list, max_length=12
    )
    yes_no_use: Literal["confirm_documented_condition", "cause_and_effect", "poa_status"] | None = (
        None
    )

    def draft(self) -> QueryDraft:
        return QueryDraft(
            question=self.question,
            format=QueryFormat(self.format),
            indicators=[Indicator(i.document, i.start, i.quote) for i in self.indicators],
            options=self.options,
            yes_no_use=YesNoUse(self.yes_no_use) if self.yes_no_use else None,
        )


class TaskSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    encounter_key: str
    pool_id: str
    status: str
    due_at: datetime
    kind: str = Field(
        default="coding", description="coding, or rework: the payer denied the claim for coding"
    )
    rework_reason: str | None = Field(
        default=None, description="A rework's reason: the payer's codes and the lines concerned"
    )

    @classmethod
    def of(cls, task: CodingTask) -> TaskSummary:
        return cls.model_validate(
            {**task.model_dump(), "rework_reason": reworks.rework_reason(task)}
        )


CODER_KEY = api_key_scheme("CoderApiKey", "The coder's API key")


class VendorTask(TaskSummary):
    """A task as its vendor's manager and auditors see it: who has it and the codes, no chart."""

    coder_id: str | None
    submitted_at: datetime | None
    codes: dict[str, Any] | None

    @classmethod
    def of(cls, task: CodingTask, blind: bool = False) -> VendorTask:
        codes = json.loads(task.codes) if task.codes and not blind else None
        return cls.model_validate(
            {
                **task.model_dump(exclude={"codes"}),
                "codes": codes,
                "rework_reason": reworks.rework_reason(task),
            }
        )


async def current_member(
    rt: RuntimeDep, x_api_key: Annotated[str | None, Security(CODER_KEY)] = None
) -> Coder:
    """Anyone of a vendor with a coding API key: a coder, an auditor or a vendor manager."""
    return await api_key_owner(rt, x_api_key, lambda s, h: CodingRepository(s).coder_by_key_hash(h))


def with_role(*roles: str) -> Any:
    async def check(member: Annotated[Coder, Depends(current_member)]) -> Coder:
        if member.role not in roles:
            raise HTTPException(403, f"this route is for the role(s): {', '.join(roles)}")
        return member

    return Depends(check)


TASK_STATUSES = "^(unassigned|open|awaiting_answer|on_hold|submitted|returned|withdrawn)$"
VendorMember = Annotated[Coder, Depends(current_member)]
CurrentCoder = Annotated[Coder, with_role("coder")]
VendorManager = Annotated[Coder, with_role("vendor_manager")]
VendorReviewer = Annotated[Coder, with_role("vendor_manager", "auditor")]


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
    _member: VendorMember,
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
async def get_task(
    task_id: IdPath, coder: CurrentCoder, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> dict[str, Any]:
    """The chart (answered physician queries appended as addenda) and the encounter's queries;
    the read is recorded."""
    try:
        task, chart, queries = await rt.db.run(
            lambda s: handlers.open_chart(s, settings, coder, task_id, route)
        )
    except handlers.TaskNotFound as exc:
        raise HTTPException(404, f"no task {task_id} on your worklist") from exc
    return {
        "task": TaskSummary.of(task).model_dump(mode="json"),
        "chart": chart,
        "queries": [physician_queries.query_view(q) for q in queries],
        # a rework: why the payer denied it, the lines concerned, the codes it was billed with
        "rework": reworks.rework_view(task),
    }


@router.post(
    "/v1/tasks/{task_id}/queries",
    status_code=201,
    response_model=None,
    responses={409: problem_response("The task is closed, on hold, or cannot take a query now")},
)
async def raise_query(
    task_id: IdPath, body: QueryIn, coder: CurrentCoder, rt: RuntimeDep, settings: SettingsDep
) -> dict[str, Any] | JSONResponse:
    """Ask the physician; refused (422, with every reason) unless compliant. The task leaves
    the worklist until the answer arrives (or the query is withdrawn)."""
    draft = body.draft()
    try:
        query = await rt.db.run(
            lambda s: physician_queries.query_view(
                physician_queries.raise_query(s, settings, coder, task_id, draft)
            )
        )
    except handlers.TaskNotFound as exc:
        raise HTTPException(404, f"no task {task_id} on your worklist") from exc
    except handlers.TaskClosed as exc:
        raise HTTPException(409, f"task {task_id} was already submitted or returned") from exc
    except handlers.TaskNotWorkable as exc:
        raise HTTPException(409, str(exc)) from exc
    except physician_queries.QueryRefused as exc:
        first = exc.refusals[0]
        return problem(
            422,
            "Query not compliant",
            f"{first['field']}: {first['message']}",
            refusals=exc.refusals,
        )
    return query


@router.get("/v1/queries")
async def my_queries(
    coder: CurrentCoder,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
    status: Literal["open", "answered", "withdrawn", "cancelled"] | None = None,
) -> list[dict[str, Any]]:
    """The queries you raised, newest first, with their answers (each read is recorded)."""
    return await rt.db.run(
        lambda s: physician_queries.coder_queries(s, settings, coder, status, route)
    )


@router.post(
    "/v1/queries/{query_id}/withdraw",
    responses={409: problem_response("The query was answered or closed already")},
)
async def withdraw_query(
    query_id: IdPath, coder: CurrentCoder, rt: RuntimeDep, settings: SettingsDep
) -> dict[str, Any]:
    """Withdraw an unanswered query you raised; the task returns to your worklist."""
    try:
        return await rt.db.run(
            lambda s: physician_queries.query_view(
                physician_queries.withdraw_query(s, settings, coder, query_id)
            )
        )
    except physician_queries.QueryNotFound as exc:
        raise HTTPException(404, f"no query {query_id} of yours") from exc
    except physician_queries.QueryClosed as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post(
    "/v1/tasks/{task_id}/codes",
    status_code=202,
    response_model=TaskSummary,
    responses={409: problem_response("The task is submitted, returned, on hold or waiting")},
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
    except handlers.TaskNotWorkable as exc:
        raise HTTPException(409, f"{exc}: it cannot be submitted now") from exc
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
    responses={409: problem_response("The task is submitted, returned, on hold or waiting")},
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
    except handlers.TaskNotWorkable as exc:
        raise HTTPException(409, f"{exc}: it cannot be returned now") from exc
    return TaskSummary.of(task)


@router.get("/v1/vendor/coders")
async def vendor_coders(manager: VendorManager, rt: RuntimeDep) -> list[dict[str, Any]]:
    """The manager's vendor's coders, auditors and managers, with their open tasks."""

    def team(session: Any) -> list[dict[str, Any]]:
        repo = CodingRepository(session)
        open_tasks = repo.open_counts(manager.vendor_id)
        return [
            {
                **c.model_dump(include={"id", "name", "role"}),
                "pools": c.pools.split(","),
                "credentials": c.credentials.split(","),
                "open_tasks": open_tasks.get(c.id, 0),
            }
            for c in repo.coders(manager.vendor_id)
        ]

    return await rt.db.run(team)


@router.get("/v1/vendor/tasks")
async def vendor_tasks(
    member: VendorReviewer,
    rt: RuntimeDep,
    status: Annotated[str | None, Query(pattern=TASK_STATUSES)] = None,
    coder_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[VendorTask]:
    """The vendor's tasks and submitted codes (no chart), for its manager and auditors; an
    auditor does not see the codes of a task still to be re-coded blind."""

    def read(session: Any) -> list[VendorTask]:
        tasks = CodingRepository(session).vendor_tasks(member.vendor_id, status, coder_id, limit)
        blind = set()
        if member.role == "auditor":
            blind = AuditRepository(session).under_blind_audit([t.id for t in tasks])
        return [VendorTask.of(t, t.id in blind) for t in tasks]

    return await rt.db.run(read)
