"""The chaos run, small: 60 encounters per fault (`make chaos` runs 1,000 for every fault).

In `make test` the rounds are the broker, Temporal, and all four services killed together
(each service's own kill is in `make chaos`, and its crash paths in test_crash_recovery.py),
which keeps the suite's time in bounds; `CHAOS_FAULTS=all` (or a comma-separated list) runs
other rounds here.

Each round kills its target with SIGKILL while encounters are being pushed, coded and
billed, restarts it, and needs exactly one claim per encounter at a final status, none
billed twice, none lost or stuck. `CHAOS_SEED` repeats a run's kill moments.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from tests.chaos.faults import FAULTS, RunnerStack
from tests.chaos.report import at_kill_table, notes, verdict_table
from tests.chaos.rounds import Options, plan_rounds, run_rounds
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

ENCOUNTERS = 60
SUITE_FAULTS = ("kafka", "temporal", "all-services")


def _faults() -> list[str]:
    chosen = os.environ.get("CHAOS_FAULTS", ",".join(SUITE_FAULTS))
    return list(FAULTS) if chosen == "all" else chosen.split(",")


def test_every_fault_mid_stream_gives_exactly_one_claim_per_encounter(
    stack: Stack, tmp_path: Path
) -> None:
    runner = RunnerStack.of(stack)
    if runner is None:
        pytest.skip("kills the broker and Temporal: needs this checkout's deploy/local stack")
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 10**6))
    options = Options(encounters=ENCOUNTERS, rate=6.0, settle_timeout=60.0)
    plans = plan_rounds([FAULTS[name] for name in _faults()], ENCOUNTERS, seed)

    results = asyncio.run(run_rounds(plans, options, stack, runner, tmp_path, print))

    report = "\n\n".join(
        [f"seed {seed}", at_kill_table(results), verdict_table(results, ENCOUNTERS), notes(results)]
    )
    assert [r.plan.fault.name for r in results if not r.passed(ENCOUNTERS)] == [], report
    for r in results:  # mid-stream: the target had work in hand and the stream was not over
        assert r.at_kill[r.plan.fault.busy_after] > 0, report
        assert r.at_kill["final"] < ENCOUNTERS, report
