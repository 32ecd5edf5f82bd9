"""Rates and latency percentiles of the benchmark's stages and request runs (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def rate(count: int, since: float, until: float) -> float:
    """Events per second over [since, until]; NaN when nothing happened or no time passed."""
    span = until - since
    if count == 0 or span <= 0:
        return math.nan
    return count / span


@dataclass(frozen=True)
class Figures:
    """How many got there, at what rate (per second) and with which latency (seconds)."""

    count: int
    rate: float
    p50: float
    p99: float


def stage_figures(posted: Sequence[float], reached: Sequence[float | None]) -> Figures:
    """A pipeline stage: encounters that reached it, counted from the first POST.

    ``posted[i]`` is when encounter i's POST was sent and ``reached[i]`` when it reached the
    stage (None: it did not). The rate is encounters per second from the first POST to the
    last arrival at the stage; latency is each encounter's time from its own POST.
    """
    pairs = [(p, r) for p, r in zip(posted, reached, strict=True) if r is not None]
    if not pairs:
        return Figures(0, math.nan, math.nan, math.nan)
    latencies = [r - p for p, r in pairs]
    return Figures(
        count=len(pairs),
        rate=rate(len(pairs), min(posted), max(r for _, r in pairs)),
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
    )


def step_figures(entered: Sequence[float | None], left: Sequence[float | None]) -> Figures:
    """One step on its own (e.g. coded → claim built): from the first entry to the last exit."""
    pairs = [(e, x) for e, x in zip(entered, left, strict=True) if e is not None and x is not None]
    if not pairs:
        return Figures(0, math.nan, math.nan, math.nan)
    latencies = [x - e for e, x in pairs]
    return Figures(
        count=len(pairs),
        rate=rate(len(pairs), min(e for e, _ in pairs), max(x for _, x in pairs)),
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
    )


@dataclass(frozen=True)
class Sample:
    """Request ``index``: when it was due to be sent, when its answer came, its HTTP status."""

    index: int
    start: float
    end: float
    status: int  # 0: no answer (connection error or timeout)


def request_figures(
    samples: Sequence[Sample], ok: frozenset[int] = frozenset({200, 202})
) -> Figures:
    """Successful requests per second from the first send to the last answer, and latency."""
    good = [s for s in samples if s.status in ok]
    if not good:
        return Figures(0, math.nan, math.nan, math.nan)
    latencies = [s.end - s.start for s in good]
    return Figures(
        count=len(good),
        rate=rate(len(good), min(s.start for s in samples), max(s.end for s in good)),
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
    )


def failures(samples: Sequence[Sample], ok: frozenset[int] = frozenset({200, 202})) -> int:
    return sum(1 for s in samples if s.status not in ok)
