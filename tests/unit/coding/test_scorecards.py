"""Scorecards sum coded encounters and their audits per group, as written in docs/audits.md."""

from __future__ import annotations

from services.coding.domain.scorecards import (
    AuditFigures,
    CodedEncounter,
    nearest_rank,
    scorecards,
)


def _coded(coder: str, seconds: float, audit: AuditFigures | None = None) -> CodedEncounter:
    return CodedEncounter(coder, "pro", "northstar", "mercy", seconds, queries=None, audit=audit)


def test_accuracy_is_pooled_over_the_groups_audits() -> None:
    perfect = AuditFigures(3, 0.0, 2, 0.0, True)
    one_change = AuditFigures(2, 1.0, 1, 0.5, False, {"changed": 1, "units": 1})
    encounters = [
        _coded("ava", 600, perfect),
        _coded("ava", 1200, one_change),
        _coded("ava", 1800),
        _coded("ben", 60),
    ]

    ava, ben = scorecards(encounters, "coder")

    assert (ava.group, ava.volume, ava.audited) == ("ava", 3, 2)
    # (3 + 2 + 2 + 1) matched over that plus 1.5 weighted errors.
    assert ava.accuracy_percent == round(100 * 8 / 9.5, 2)
    assert ava.diagnoses_accuracy_percent == round(100 * 5 / 6, 2)
    assert ava.procedures_accuracy_percent == round(100 * 3 / 3.5, 2)
    assert ava.record_accuracy_percent == 50.0
    assert ava.differences["changed"] == 1 and ava.differences["added"] == 0
    assert (ava.turnaround_p50_seconds, ava.turnaround_p90_seconds) == (1200, 1800)
    assert ava.query_rate is None
    assert (ben.audited, ben.accuracy_percent, ben.record_accuracy_percent) == (0, None, None)
    [vendor] = scorecards(encounters, "vendor")
    assert (vendor.group, vendor.volume, vendor.audited) == ("northstar", 4, 2)


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 11)]
    assert nearest_rank(values, 50) == 5 and nearest_rank(values, 90) == 9
    assert nearest_rank([7.0], 90) == 7 and nearest_rank([], 50) is None


def test_the_denial_rate_is_coding_denials_over_the_coded_encounters() -> None:
    denied = CodedEncounter("ava", "pro", "northstar", "mercy", 60, coding_denials=1)
    encounters = [denied, _coded("ava", 60), _coded("ava", 60), _coded("ben", 60)]

    ava, ben = scorecards(encounters, "coder")

    assert (ava.coding_denials, ava.denial_rate) == (1, round(1 / 3, 4))
    assert (ben.coding_denials, ben.denial_rate) == (0, 0.0)
