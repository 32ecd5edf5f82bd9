"""Scorecards: coded encounters and their audits, summed per coder, pool, vendor or hospital.

Accuracy is pooled over the group's audits (the sum of matched codes over the sum of matched
codes and weighted errors, `accuracy.percent`), so a large audited encounter weighs more than a
small one, exactly as if the group's audits were one record. Record accuracy is the share of
audited encounters with no difference. Turnaround runs from the task reaching coding to its
codes being submitted; p50 / p90 are nearest-rank percentiles. The denial rate is the one
definition of `denial_rates`: coding-caused denials over claims billed from the group's codes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from services.coding.domain.accuracy import percent
from services.coding.domain.denial_rates import DenialRate
from services.coding.domain.differences import Kind

GroupBy = Literal["coder", "pool", "vendor", "hospital"]


@dataclass(frozen=True, slots=True)
class AuditFigures:
    """What one completed audit adds to a scorecard."""

    diagnoses_matched: int
    diagnoses_errors: float
    procedures_matched: int
    procedures_errors: float
    record_accurate: bool
    kinds: Mapping[str, int] = field(default_factory=dict)  # differences by kind


@dataclass(frozen=True, slots=True)
class CodedEncounter:
    coder_id: str
    pool_id: str
    vendor_id: str
    hospital_id: str
    turnaround_seconds: float
    queries: int | None = None  # physician queries raised on it; None when not counted
    audit: AuditFigures | None = None
    coding_denials: int = 0  # the payer denied or rejected the claim of these codes for coding

    def group(self, by: GroupBy) -> str:
        return {
            "coder": self.coder_id,
            "pool": self.pool_id,
            "vendor": self.vendor_id,
            "hospital": self.hospital_id,
        }[by]


@dataclass(frozen=True, slots=True)
class Scorecard:
    group: str
    volume: int  # coded encounters
    audited: int
    accuracy_percent: float | None  # None until something is audited
    diagnoses_accuracy_percent: float | None
    procedures_accuracy_percent: float | None
    record_accuracy_percent: float | None
    differences: dict[str, int]  # every kind, 0 included
    turnaround_p50_seconds: float | None
    turnaround_p90_seconds: float | None
    query_rate: float | None  # physician queries per coded encounter; None when not counted
    coding_denials: int  # claims billed from these codes denied or rejected for a coding cause
    denial_rate: float | None  # coding_denials / volume, 0..1


def scorecards(encounters: Iterable[CodedEncounter], by: GroupBy) -> list[Scorecard]:
    """One scorecard per group value, in the order of the values."""
    groups: dict[str, list[CodedEncounter]] = {}
    for encounter in encounters:
        groups.setdefault(encounter.group(by), []).append(encounter)
    return [scorecard(key, groups[key]) for key in sorted(groups)]


def scorecard(group: str, encounters: list[CodedEncounter]) -> Scorecard:
    audits = [e.audit for e in encounters if e.audit is not None]
    dx_matched = sum(a.diagnoses_matched for a in audits)
    dx_errors = sum(a.diagnoses_errors for a in audits)
    px_matched = sum(a.procedures_matched for a in audits)
    px_errors = sum(a.procedures_errors for a in audits)
    kinds: Counter[str] = Counter({str(kind): 0 for kind in Kind})
    for audit in audits:
        kinds.update(audit.kinds)
    turnaround = sorted(e.turnaround_seconds for e in encounters)
    counted = [e.queries for e in encounters if e.queries is not None]
    accurate = sum(a.record_accurate for a in audits)
    denied = DenialRate(group, len(encounters), sum(e.coding_denials for e in encounters))
    return Scorecard(
        group=group,
        volume=len(encounters),
        audited=len(audits),
        accuracy_percent=percent(dx_matched + px_matched, dx_errors + px_errors)
        if audits
        else None,
        diagnoses_accuracy_percent=percent(dx_matched, dx_errors) if audits else None,
        procedures_accuracy_percent=percent(px_matched, px_errors) if audits else None,
        record_accuracy_percent=round(100.0 * accurate / len(audits), 2) if audits else None,
        differences=dict(kinds),
        turnaround_p50_seconds=nearest_rank(turnaround, 50),
        turnaround_p90_seconds=nearest_rank(turnaround, 90),
        query_rate=round(sum(counted) / len(counted), 4) if counted else None,
        coding_denials=denied.coding_denials,
        denial_rate=denied.rate,
    )


def nearest_rank(ordered: list[float], p: float) -> float | None:
    """The p-th percentile of sorted values by the nearest-rank method (None when empty)."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)
