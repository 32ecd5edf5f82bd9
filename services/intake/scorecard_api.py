"""Hospitals read the vendor-level figures of their own encounters, per month."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.intake.api import CurrentHospital
from services.intake.scorecard_db import ScorecardRepository
from shared.events.coding import ScorecardFigures
from shared.http import RuntimeDep

router = APIRouter()


class HospitalScorecardView(BaseModel):
    period: str
    as_of: datetime | None  # when coding computed the figures; none yet: nothing coded
    vendors: list[ScorecardFigures]


@router.get("/v1/scorecards")
async def hospital_scorecards(
    hospital: CurrentHospital,
    rt: RuntimeDep,
    period: Annotated[
        str | None,
        Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM (UTC); this month"),
    ] = None,
) -> HospitalScorecardView:
    """Each vendor's volume, accuracy, audits, differences, turnaround and query rate on your
    encounters coded in the month, as coding last published them."""
    month = period or f"{datetime.now(UTC):%Y-%m}"
    card = await rt.db.run(lambda s: ScorecardRepository(s).get(hospital.id, month))
    if card is None:
        return HospitalScorecardView(period=month, as_of=None, vendors=[])
    vendors = [ScorecardFigures.model_validate(v) for v in json.loads(card.vendors)]
    return HospitalScorecardView(period=month, as_of=card.as_of, vendors=vendors)
