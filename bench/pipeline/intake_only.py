"""Intake's POST alone: its maximum rate at a concurrency, then its latency at 80% of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.pipeline import load
from bench.pipeline.http11 import Http11Pool
from bench.pipeline.pipeline import Hospital, intake_sender
from bench.pipeline.stats import Figures, failures, request_figures

LOAD_FRACTION = 0.8
SECOND_PHASE = 1_000_000  # its encounters' numbers start here, past any the first phase sent


@dataclass(frozen=True)
class IntakeFigures:
    concurrency: int
    maximum: Figures
    paced_rate: float  # the arrival rate of the second phase
    paced: Figures
    failed: int
    accepted: int  # encounters accepted in both phases, warm-up included: in the platform now


async def measure_intake(hospital: Hospital, concurrency: int, duration: float) -> IntakeFigures:
    accepted: set[int] = set()

    def count(i: int, view: dict[str, Any]) -> None:
        accepted.add(i)

    pool = Http11Pool(hospital.endpoints.intake, concurrency)
    try:
        flat_out = await load.closed_loop(
            intake_sender(hospital, pool, count), concurrency, duration=duration, warmup=1.0
        )
        maximum = request_figures(flat_out)
        paced_rate = LOAD_FRACTION * maximum.rate
        steady = await load.paced(
            intake_sender(hospital, pool, count, offset=SECOND_PHASE), paced_rate, duration=duration
        )
    finally:
        await pool.close()
    return IntakeFigures(
        concurrency=concurrency,
        maximum=maximum,
        paced_rate=paced_rate,
        paced=request_figures(steady),
        failed=failures(flat_out) + failures(steady),
        accepted=len(accepted),
    )
