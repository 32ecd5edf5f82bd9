"""The ops page (`GET /ops`) and the figures behind it, for ops (the admin token)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from services.assignment.ops_dashboard import Dashboard, OpsDashboard
from shared.http import AdminOnly

router = APIRouter()
PAGE = Path(__file__).with_name("static") / "ops.html"


@router.get("/ops", include_in_schema=False)
async def ops_page() -> FileResponse:
    """The page holds no figures: it asks for the admin token and reads them from the API."""
    return FileResponse(PAGE, media_type="text/html")


@router.get("/v1/ops/dashboard", dependencies=[AdminOnly])
async def dashboard(
    request: Request,
    window_minutes: Annotated[int, Query(ge=10, le=30 * 24 * 60)] = 24 * 60,
) -> Dashboard:
    """DNFB (count, ages against the goal), backlog per pool against capacity, turnaround by
    encounter class, throughput per interval over the window, SLA breaches and escalations;
    each figure's Temporal UI list under `links`. Ids, counts, ages and times only."""
    ops: OpsDashboard = request.app.state.dashboard
    return await ops.figures(timedelta(minutes=window_minutes))
