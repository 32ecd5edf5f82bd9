"""Bulk NDJSON uploads as asynchronous jobs: `202` with the job's URL, its progress and counts,
and the error report by line number."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from services.intake import bulk_jobs
from services.intake.api import CurrentHospital
from services.intake.bulk_db import BulkChunk, BulkJob, BulkRepository
from services.intake.settings import intake_settings
from shared.http import IdPath, RuntimeDep, SettingsDep

router = APIRouter(prefix="/v1/bulk", tags=["bulk"])
NDJSON = "application/x-ndjson"


class NdjsonResponse(PlainTextResponse):
    """One JSON object per line."""

    media_type = NDJSON


class BulkJobView(BaseModel):
    id: str
    status: str
    format: str
    lines_total: int
    lines_done: int
    accepted: int
    duplicate: int
    refused: int
    skipped: int
    errors: int  # rows of the error report
    created_at: datetime
    finished_at: datetime | None
    url: str
    errors_url: str

    @classmethod
    def of(cls, job: BulkJob, chunks: list[BulkChunk], errors: int) -> BulkJobView:
        url = f"/v1/bulk/jobs/{job.id}"
        return cls(
            **job.model_dump(),
            **dataclasses.asdict(bulk_jobs.progress(chunks)),
            errors=errors,
            url=url,
            errors_url=f"{url}/errors",
        )


@router.post("/encounters", status_code=202, openapi_extra={
    "requestBody": {"content": {NDJSON: {"schema": {"type": "string"}}}, "required": True}
})  # fmt: skip
async def upload(
    request: Request,
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    response: Response,
) -> BulkJobView:
    """One encounter document (native JSON) or FHIR resource per line; answered at once."""
    try:
        body = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "the file is not UTF-8") from exc
    if not body.strip():
        raise HTTPException(422, "the file has no lines")
    per_chunk = intake_settings(settings).bulk_lines_per_chunk
    job = await rt.db.run(lambda s: bulk_jobs.create_job(s, hospital.id, body, per_chunk))
    response.headers["Location"] = f"/v1/bulk/jobs/{job.id}"
    return await _view(rt, hospital.id, job.id)


async def _view(rt: RuntimeDep, hospital_id: str, job_id: str) -> BulkJobView:
    def read(session: Any) -> BulkJobView | None:
        repo = BulkRepository(session)
        job = repo.job(hospital_id, job_id)
        if job is None:
            return None
        return BulkJobView.of(job, repo.chunk_states(job_id), repo.error_count(job_id))

    view = await rt.db.run(read)
    if view is None:
        raise HTTPException(404, f"no bulk job {job_id} for this hospital")
    return view


@router.get("/jobs/{job_id}")
async def get_job(job_id: IdPath, hospital: CurrentHospital, rt: RuntimeDep) -> BulkJobView:
    return await _view(rt, hospital.id, job_id)


@router.get(
    "/jobs/{job_id}/errors",
    response_class=NdjsonResponse,
    responses={200: {"description": "{line, field, message} per refused line",
                     "content": {NDJSON: {"schema": {"type": "string"}}}}},
)  # fmt: skip
async def get_errors(job_id: IdPath, hospital: CurrentHospital, rt: RuntimeDep) -> NdjsonResponse:
    """The error report: one JSON object per refused line ({line, field, message})."""
    await _view(rt, hospital.id, job_id)
    rows = await rt.db.run(lambda s: BulkRepository(s).errors(job_id))
    text = "".join(
        json.dumps({"line": r.line, "field": r.field, "message": r.message}) + "\n" for r in rows
    )
    return NdjsonResponse(text)
