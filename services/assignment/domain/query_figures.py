"""Physician query figures per hospital or per coder: how many, how fast, how they ended."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class QueryLife:
    hospital_id: str
    coder_id: str
    status: str  # open | answered | withdrawn
    raised_at: datetime | None
    answered_at: datetime | None
    escalated: bool


@dataclass(frozen=True)
class QueryFigures:
    key: str
    raised: int
    open: int
    answered: int
    withdrawn: int
    escalated: int
    response_p50_seconds: float | None
    response_p90_seconds: float | None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p% of values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def query_figures(
    lives: Iterable[QueryLife], by: Literal["hospital", "coder"]
) -> list[QueryFigures]:
    """One row per hospital or coder, in key order. Response time: raised → answered."""
    groups: dict[str, list[QueryLife]] = {}
    for life in lives:
        groups.setdefault(life.hospital_id if by == "hospital" else life.coder_id, []).append(life)
    rows = []
    for key in sorted(groups):
        group = groups[key]
        responses = [
            (q.answered_at - q.raised_at).total_seconds()
            for q in group
            if q.status == "answered" and q.answered_at and q.raised_at
        ]
        rows.append(
            QueryFigures(
                key=key,
                raised=len(group),
                open=sum(q.status == "open" for q in group),
                answered=sum(q.status == "answered" for q in group),
                withdrawn=sum(q.status == "withdrawn" for q in group),
                escalated=sum(q.escalated for q in group),
                response_p50_seconds=percentile(responses, 50),
                response_p90_seconds=percentile(responses, 90),
            )
        )
    return rows
