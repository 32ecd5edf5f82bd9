"""Denial rates over HTTP: a vendor's managers and auditors see its coders and pools, a coder
their own (the figures the vendor's scorecards use)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.coding.api import CurrentCoder, VendorReviewer
from services.coding.denials import DenialFigures, denial_figures
from services.coding.domain.denial_rates import DenialRate
from shared.http import RuntimeDep

router = APIRouter()

Since = Annotated[datetime | None, Query(description="from this time (submissions, denials)")]
Until = Annotated[datetime | None, Query(description="before this time")]


class RateView(BaseModel):
    id: str = Field(description="the coder's or the pool's id")
    billed: int = Field(description="claims billed from their codes (tasks submitted)")
    coding_denials: int = Field(description="of those, denied or rejected for a coding cause")
    rate: float | None = Field(description="coding_denials / billed (none before any billing)")

    @classmethod
    def of(cls, rate: DenialRate) -> RateView:
        return cls(
            id=rate.subject,
            billed=rate.billed,
            coding_denials=rate.coding_denials,
            rate=rate.rate,
        )


class DenialRatesView(BaseModel):
    vendor_id: str
    since: datetime | None
    until: datetime | None
    coders: list[RateView]
    pools: list[RateView]

    @classmethod
    def of(cls, figures: DenialFigures) -> DenialRatesView:
        return cls(
            vendor_id=figures.vendor_id,
            since=figures.since,
            until=figures.until,
            coders=[RateView.of(r) for r in figures.coders],
            pools=[RateView.of(r) for r in figures.pools],
        )


@router.get("/v1/vendor/denial-rates")
async def vendor_denial_rates(
    member: VendorReviewer, rt: RuntimeDep, since: Since = None, until: Until = None
) -> DenialRatesView:
    """The vendor's coding-caused denial rate per coder and per pool."""
    figures = await rt.db.run(lambda s: denial_figures(s, member.vendor_id, since, until))
    return DenialRatesView.of(figures)


@router.get("/v1/denial-rate")
async def my_denial_rate(
    coder: CurrentCoder, rt: RuntimeDep, since: Since = None, until: Until = None
) -> DenialRatesView:
    """The coder's own coding-caused denial rate (and per pool they coded in)."""
    figures = await rt.db.run(
        lambda s: denial_figures(s, coder.vendor_id, since, until, coder_id=coder.id)
    )
    return DenialRatesView.of(figures)
