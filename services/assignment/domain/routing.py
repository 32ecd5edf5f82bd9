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


def route_to_pool(
    pools: Sequence[PoolProfile],
    encounter_class: str,
    hospital_id: str,
    exclude: Sequence[str] = (),
) -> PoolProfile | None:
    """The eligible pool with the most free capacity; ties go to the shorter SLA, then the id."""
    needed = REQUIRED_CREDENTIALS.get(encounter_class, frozenset())
    eligible = [
        p
        for p in pools
        if p.pool_id not in exclude
        and encounter_class in p.encounter_classes
        and (not p.hospitals or hospital_id in p.hospitals)
        and p.credentials & needed
        and p.open_tasks < p.capacity
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda p: (-(p.capacity - p.open_tasks), p.sla_seconds, p.pool_id))
