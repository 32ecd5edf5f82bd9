"""Routing rules: which vendor coder pool may take an encounter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The credential an encounter class needs (AAPC / AHIMA): inpatient facility coding is CCS
# work; outpatient facility and ED are COC or CCS; professional fee coding is CPC or CCS-P.
REQUIRED_CREDENTIALS: dict[str, frozenset[str]] = {
    "inpatient": frozenset({"CCS"}),
    "outpatient": frozenset({"COC", "CCS"}),
    "emergency": frozenset({"COC", "CCS"}),
    "professional": frozenset({"CPC", "CCS-P"}),
}


@dataclass(frozen=True)
class PoolProfile:
    pool_id: str
    vendor_id: str
    credentials: frozenset[str]
    encounter_classes: frozenset[str]
    hospitals: frozenset[str]  # empty: contracted with every hospital
    capacity: int
    open_tasks: int
    sla_seconds: int
    rework_sla_seconds: int | None = None  # a coding-caused denial's rework
    waiting: int = 0  # encounters in its backlog: they go before a newcomer


def route_to_pool(
    pools: Sequence[PoolProfile],
    encounter_class: str,
    hospital_id: str,
    exclude: Sequence[str] = (),
) -> PoolProfile | None:
    """The eligible pool with the most free capacity; ties go to the shorter SLA, then the id.
    A pool with a backlog has no capacity for a newcomer: it joins the backlog in its turn."""
    eligible = [
        p
        for p in eligible_pools(pools, encounter_class, hospital_id, exclude)
        if p.open_tasks < p.capacity and not p.waiting
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda p: (-(p.capacity - p.open_tasks), p.sla_seconds, p.pool_id))


def eligible_pools(
    pools: Sequence[PoolProfile],
    encounter_class: str,
    hospital_id: str,
    exclude: Sequence[str] = (),
) -> list[PoolProfile]:
    """The pools that may take the encounter once they have capacity (their backlogs)."""
    needed = REQUIRED_CREDENTIALS.get(encounter_class, frozenset())
    return [
        p
        for p in pools
        if p.pool_id not in exclude
        and encounter_class in p.encounter_classes
        and (not p.hospitals or hospital_id in p.hospitals)
        and p.credentials & needed
    ]
