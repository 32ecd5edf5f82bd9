"""The ops page's figures, computed from each encounter's milestones (ids, classes and times;
no PHI leaves here: ages in days, counts, percentiles in seconds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from services.assignment.domain.query_figures import percentile

DAY = 86_400.0
#: Claim statuses that mean the encounter is billed: the payer accepted a claim for it (999
#: accepted) or decided on it (277CA acknowledged, paid, partially paid, denied). A rejected,
#: held or never-sent claim leaves the encounter unbilled.
BILLED = frozenset({"accepted", "acknowledged", "paid", "partially_paid", "denied"})


@dataclass(frozen=True)
class Milestones:
    """One encounter's way through: when discharged, received, first coded, first billed;
    `closed` when it will not be billed here (returned to the hospital, cancelled)."""

    encounter_key: str
    encounter_class: str
    discharged_at: datetime
    received_at: datetime
    coded_at: datetime | None = None
    billed_at: datetime | None = None
    closed: bool = False


class Aged(BaseModel):
    encounter_key: str
    age_days: float


class Dnfb(BaseModel):
    """Discharged, not final billed: how many and how long since discharge (days)."""

    count: int
    goal_days: float
    p50_days: float | None
    max_days: float | None
    over_goal: int
    oldest: list[Aged]  # the oldest over the goal, oldest first (at most `OLDEST_SHOWN`)
    age_histogram: list[int]  # encounters per whole day of age: [0-1), [1-2), ... last: more


OLDEST_SHOWN = 10
HISTOGRAM_DAYS = 10


def dnfb(encounters: Sequence[Milestones], now: datetime, goal_days: float) -> Dnfb:
    """The encounters discharged and neither billed nor closed, aged at `now`."""
    ages = sorted(
        (
            ((now - e.discharged_at).total_seconds() / DAY, e.encounter_key)
            for e in encounters
            if e.billed_at is None and not e.closed
        ),
        reverse=True,
    )
    days = [age for age, _ in ages]
    histogram = [0] * (HISTOGRAM_DAYS + 1)
    for age in days:
        histogram[min(max(int(age), 0), HISTOGRAM_DAYS)] += 1
    over = [Aged(encounter_key=k, age_days=round(a, 2)) for a, k in ages if a > goal_days]
    p50 = percentile(days, 50)
    return Dnfb(
        count=len(days),
        goal_days=goal_days,
        p50_days=None if p50 is None else round(p50, 2),
        max_days=round(days[0], 2) if days else None,
        over_goal=len(over),
        oldest=over[:OLDEST_SHOWN],
        age_histogram=histogram,
    )


class Turnaround(BaseModel):
    """Per encounter class, seconds from receipt to coded and to billed (nearest rank)."""

    encounter_class: str
    coded: int
    billed: int
    to_coded_p50: float | None
    to_coded_p90: float | None
    to_billed_p50: float | None
    to_billed_p90: float | None


def turnaround(encounters: Sequence[Milestones], since: datetime) -> list[Turnaround]:
    """Of the encounters coded (billed) since `since`: receipt to coded (to billed)."""
    to_coded: dict[str, list[float]] = defaultdict(list)
    to_billed: dict[str, list[float]] = defaultdict(list)
    for e in encounters:
        if e.coded_at is not None and e.coded_at >= since:
            to_coded[e.encounter_class].append((e.coded_at - e.received_at).total_seconds())
        if e.billed_at is not None and e.billed_at >= since:
            to_billed[e.encounter_class].append((e.billed_at - e.received_at).total_seconds())
    return [
        Turnaround(
            encounter_class=c,
            coded=len(to_coded[c]),
            billed=len(to_billed[c]),
            to_coded_p50=percentile(to_coded[c], 50),
            to_coded_p90=percentile(to_coded[c], 90),
            to_billed_p50=percentile(to_billed[c], 50),
            to_billed_p90=percentile(to_billed[c], 90),
        )
        for c in sorted(to_coded.keys() | to_billed.keys())
    ]


class Interval(BaseModel):
    start: datetime
    coded: int
    billed: int


def throughput(
    encounters: Sequence[Milestones], now: datetime, interval: timedelta, intervals: int
) -> list[Interval]:
    """Encounters coded and billed in each of the last `intervals` intervals, oldest first;
    the last one ends at `now`."""
    first = now - interval * intervals
    coded, billed = [0] * intervals, [0] * intervals

    def count(at: datetime | None, into: list[int]) -> None:
        if at is not None and first <= at < now:
            into[int((at - first) / interval)] += 1

    for e in encounters:
        count(e.coded_at, coded)
        count(e.billed_at, billed)
    return [
        Interval(start=first + interval * i, coded=coded[i], billed=billed[i])
        for i in range(intervals)
    ]


class PoolBacklog(BaseModel):
    pool_id: str
    capacity: int
    open_tasks: int
    waiting: int  # encounters no pool could take yet that this pool may take

    @property
    def load(self) -> float:
        return (self.open_tasks + self.waiting) / self.capacity


def pool_backlog(
    capacities: dict[str, int], open_tasks: dict[str, int], waiting: dict[str, int]
) -> list[PoolBacklog]:
    """Each pool's open tasks and waiting encounters beside its capacity, most loaded first."""
    rows = [
        PoolBacklog(
            pool_id=pool_id,
            capacity=capacity,
            open_tasks=open_tasks.get(pool_id, 0),
            waiting=waiting.get(pool_id, 0),
        )
        for pool_id, capacity in capacities.items()
    ]
    return sorted(rows, key=lambda r: (-r.load, r.pool_id))


def interval_for(window: timedelta, intervals: int) -> timedelta:
    """Whole seconds per interval (at least ten) covering `window`."""
    return timedelta(seconds=max(10, round(window.total_seconds() / intervals)))
