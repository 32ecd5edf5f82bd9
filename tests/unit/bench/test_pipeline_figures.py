"""The pipeline benchmark's pure parts: percentiles, rates, the printout and its checks."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from bench.pipeline.intake_only import IntakeFigures
from bench.pipeline.journey import Journey, stage_table
from bench.pipeline.procs import BENCH, Usage
from bench.pipeline.report import (
    Ceilings,
    Report,
    end_to_end_check,
    intake_check,
    render,
    worklist_check,
)
from bench.pipeline.run import arrival_rate
from bench.pipeline.stats import (
    Figures,
    Sample,
    percentile,
    request_figures,
    stage_figures,
    step_figures,
)
from bench.pipeline.temporal_ceiling import TemporalCeiling


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0, 1.0, 2.0], 50) == 2  # unsorted input
    assert percentile([7.0], 99) == 7
    assert math.isnan(percentile([], 50))


def test_stage_rate_counts_from_the_first_post_to_the_last_arrival() -> None:
    posted = [0.0, 1.0, 2.0, 3.0]
    reached = [2.0, 3.0, None, 5.0]  # the third never got there
    f = stage_figures(posted, reached)
    assert f.count == 3
    assert f.rate == pytest.approx(3 / 5.0)
    assert f.p50 == 2.0  # latencies 2, 2, 2
    assert f.p99 == 2.0


def test_a_stage_nobody_reached_has_no_rate() -> None:
    f = stage_figures([0.0, 1.0], [None, None])
    assert f.count == 0 and math.isnan(f.rate) and math.isnan(f.p99)


def test_step_figures_measure_one_step_alone() -> None:
    entered = [10.0, 11.0, None]
    left = [12.0, 15.0, 20.0]  # the third never entered: not counted
    f = step_figures(entered, left)
    assert f.count == 2
    assert f.rate == pytest.approx(2 / 5.0)
    assert (f.p50, f.p99) == (2.0, 4.0)


def test_request_figures_leave_out_failures_but_not_their_time() -> None:
    samples = [
        Sample(0, 0.0, 0.1, 202),
        Sample(1, 0.0, 0.3, 202),
        Sample(2, 0.5, 0.6, 500),
        Sample(3, 0.5, 1.0, 200),
    ]
    f = request_figures(samples)
    assert f.count == 3
    assert f.rate == pytest.approx(3 / 1.0)
    assert f.p50 == pytest.approx(0.3)
    assert f.p99 == pytest.approx(0.5)


def test_stage_table_reads_the_claims_own_times() -> None:
    journey = Journey(0, "h:e", posted=100.0, accepted=100.1, on_worklist=101.0, coded=101.5)
    final = journey.record_claim(
        {
            "claim": {
                "status": "partially_paid",
                "claim_id": "c1",
                "history": [
                    {
                        "status": "built",
                        "at": datetime.fromtimestamp(103.0).astimezone().isoformat(),
                    },
                    {"status": "submitted", "at": "1970-01-01T00:01:44+00:00"},
                    {"status": "partially_paid", "at": "1970-01-01T00:01:45+00:00"},
                ],
            }
        }
    )
    assert final and journey.outcome == "partially_paid" and journey.claim_id == "c1"
    assert (journey.built, journey.paid) == (103.0, 105.0)
    table = stage_table([journey, Journey(1, "h:f", posted=100.0)])
    assert table["paid"].count == 1
    assert table["paid"].p50 == pytest.approx(5.0)
    assert table["claim built"].p50 == pytest.approx(3.0)
    assert table["accepted (intake 202)"].rate == pytest.approx(1 / 0.1)


def test_a_claim_not_yet_final_is_not_recorded() -> None:
    journey = Journey(0, "h:e", posted=1.0)
    view = {"claim": {"status": "submitted", "claim_id": "c", "history": []}}
    assert not journey.record_claim(view)
    assert journey.outcome is None


def test_arrival_rate_is_absolute_or_a_share_of_the_temporal_ceiling() -> None:
    assert arrival_rate(None, 30.0) is None
    assert arrival_rate("12", 30.0) == 12.0
    assert arrival_rate("0.5x", 30.0) == 15.0
    with pytest.raises(ValueError):
        arrival_rate("0x", 30.0)


def _figures(rate: float, p50: float, p99: float, count: int = 100) -> Figures:
    return Figures(count, rate, p50, p99)


def _temporal(rate: float) -> TemporalCeiling:
    return TemporalCeiling(200, 90.0, _figures(rate, 3.0, 6.0, 200))


def test_intake_check_needs_the_rate_and_the_latency() -> None:
    bare = _figures(300.0, 0.04, 0.07)
    fast = IntakeFigures(16, _figures(200.0, 0.02, 0.06), 160.0, _figures(160.0, 0.01, 0.04), 0, 9)
    assert intake_check(fast, bare).passed is True
    slow_tail = IntakeFigures(16, fast.maximum, 160.0, _figures(160.0, 0.01, 0.06), 0, 9)
    assert intake_check(slow_tail, bare).passed is False
    slow = IntakeFigures(16, _figures(140.0, 0.02, 0.06), 112.0, fast.paced, 0, 9)
    check = intake_check(slow, bare)
    assert check.passed is False
    assert "140/s = 0.47 × 300/s" in check.text
    assert intake_check(None, bare).passed is None


def test_worklist_check_reports_the_rate_against_the_temporal_ceiling() -> None:
    check = worklist_check(_figures(5.0, 0.3, 0.9), 15.0, _temporal(30.0))
    assert check.passed is True
    assert "p99 900 ms" in check.text and "15.0 enc/s = 0.50 × the Temporal ceiling" in check.text
    assert worklist_check(_figures(5.0, 0.3, 1.2), 15.0, _temporal(30.0)).passed is False
    assert worklist_check(None, None, None).passed is None


def test_end_to_end_check_fails_when_encounters_are_missing() -> None:
    assert end_to_end_check(_figures(16.0, 5, 9, 200), 200, _temporal(30.0), False).passed
    assert not end_to_end_check(_figures(14.0, 5, 9, 200), 200, _temporal(30.0), False).passed
    short = end_to_end_check(_figures(16.0, 5, 9, 150), 200, _temporal(30.0), False)
    assert short.passed is False and "only 150 of 200 paid" in short.text
    assert end_to_end_check(_figures(16.0, 5, 9), 200, _temporal(30.0), True).passed is None


def test_render_puts_each_stage_beside_its_ceiling() -> None:
    stages = {
        "accepted (intake 202)": _figures(110.0, 0.14, 0.235, 200),
        "on a worklist": _figures(6.4, 3.0, 8.0, 200),
        "coded (submission 202)": _figures(6.3, 3.1, 8.1, 200),
        "claim built": _figures(0.9, 100.0, 210.0, 200),
        "paid": _figures(0.9, 101.0, 222.0, 200),
    }
    report = Report(
        title="Chartflow pipeline benchmark",
        ceilings=Ceilings(bare_insert=_figures(319.0, 0.05, 0.074), temporal=_temporal(26.0)),
        concurrency=16,
        total=200,
        stages=stages,
        usage={
            "claims": Usage(252 * 2**20, 1.0, 200 * 2**20),
            "postgres": Usage(600 * 2**20, 1.0, 90 * 2**20),
            BENCH: Usage(100 * 2**20, 1.0, 100 * 2**20),
        },
        cpu={"claims": 190.0, "postgres": 3.0, BENCH: 195.0},
        cpu_window=200.0,
        checks=[end_to_end_check(stages["paid"], 200, _temporal(26.0), False)],
    )
    text = render(report)
    lines = text.splitlines()
    accepted = next(line for line in lines if line.startswith("accepted (intake 202)"))
    assert "200/200" in accepted and "110" in accepted and "140 ms" in accepted
    assert "bare insert 319/s" in accepted and accepted.rstrip().endswith("0.34")
    paid = next(line for line in lines if line.startswith("paid"))
    assert "Temporal 26.0/s" in paid and paid.rstrip().endswith("0.035")
    built = next(line for line in lines if line.startswith("claim built"))
    assert built.rstrip().endswith("-")  # no pyx12 ceiling measured: no ratio
    claims = next(line for line in lines if line.strip().startswith("claims"))
    assert "190.0 s" in claims and "95%" in claims and "busiest" in claims  # of the stack
    stack_total = next(line for line in lines if "the stack in all" in line)
    assert stack_total.split()[-4:] == ["852", "MB", "290", "MB"]  # RSS, PSS; bench left out
    assert "  FAIL  accepted → paid" in text
