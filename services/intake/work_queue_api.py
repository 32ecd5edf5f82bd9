"""The hospital's work queue: denials and rejections its billing office must fix."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from services.intake.api import CurrentHospital
from services.intake.claim_chain import WorkItemNotFound, read_work_queue, resolve_work_item
from services.intake.claims_db import BillingWorkItem
from shared.http import IdPath, RuntimeDep, SettingsDep
from shared.http.access import RouteName

router = APIRouter()


class WorkItemView(BaseModel):
    id: str
    encounter_id: str
    encounter_key: str
    claim_id: str
    claim_version: int
    claim_status: str
    items: list[dict[str, Any]]  # TriageItem: code, meaning, lines, CARC/RARC or 277CA codes
    status: str
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, row: BillingWorkItem) -> WorkItemView:
        return cls(**row.model_dump(exclude={"items", "hospital_id"}), items=json.loads(row.items))


@router.get("/v1/work-queue")
async def work_queue(
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
    status: Literal["open", "resolved"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[WorkItemView]:
    """Billing-caused denials and rejections of the hospital's claims (registration,
    eligibility, coordination of benefits, provider data, submission), newest first."""
    rows = await rt.db.run(
        lambda s: read_work_queue(s, settings, hospital.id, route, status, limit)
    )
    return [WorkItemView.of(r) for r in rows]


@router.post("/v1/work-queue/{item_id}/resolve")
async def resolve(
    item_id: IdPath,
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
) -> WorkItemView:
    """The billing office fixed it: the item leaves the open queue."""
    try:
        row = await rt.db.run(lambda s: resolve_work_item(s, settings, hospital.id, item_id, route))
    except WorkItemNotFound as exc:
        raise HTTPException(404, f"no work item {item_id} for this hospital") from exc
    return WorkItemView.of(row)
