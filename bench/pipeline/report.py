"""The benchmark's printout: stages beside their ceilings, processes, and the issue's checks.

Pure formatting: every figure comes in measured; nothing here reads a clock or a server.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.pipeline.ceilings import HttpCeiling
from bench.pipeline.intake_only import IntakeFigures
from bench.pipeline.procs import BENCH, Usage
from bench.pipeline.stats import Figures
from bench.pipeline.temporal_ceiling import TemporalCeiling
from bench.pipeline.x12_ceiling import X12Ceiling

P99_INTAKE_TARGET = 0.050  # seconds, at 80% of intake's maximum
P99_WORKLIST_TARGET = 1.0  # seconds, at half the maximum rate
MIN_RATIO = 0.5
ACCEPTED_TO_WORKLIST = "accepted → on a worklist"
CODED_TO_BUILT = "coded → claim built"


def seconds(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value < 0.01:
        return f"{value * 1e3:.1f} ms"
    if value < 1:
        return f"{value * 1e3:.0f} ms"
    return f"{value:.2f} s"


def per_second(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ratio(value: float, ceiling: float | None) -> float:
    if ceiling is None or math.isnan(value) or math.isnan(ceiling) or ceiling <= 0:
        return math.nan
    return value / ceiling


def shown_ratio(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


@dataclass(frozen=True)
class Ceilings:
    generator: HttpCeiling | None = None  # the load generator against POST /noop
    bare_insert: Figures | None = None
    temporal: TemporalCeiling | None = None
    pyx12: X12Ceiling | None = None

    def rate(self, name: str) -> float | None:
        if name == "bare insert" and self.bare_insert:
            return self.bare_insert.rate
        if name == "Temporal" and self.temporal:
            return self.temporal.completed.rate
        if name == "pyx12" and self.pyx12:
            return self.pyx12.rate
        return None


# Each stage's (or step's) rate is compared with the ceiling of the work that paces it.
CEILING_OF = {
    "accepted (intake 202)": "bare insert",
    "on a worklist": "Temporal",
    "coded (submission 202)": "Temporal",
    "claim built": "pyx12",
    "paid": "Temporal",
    ACCEPTED_TO_WORKLIST: "Temporal",
    CODED_TO_BUILT: "pyx12",
}


@dataclass(frozen=True)
class Check:
    passed: bool | None  # None: this mode does not measure it
    text: str

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[self.passed]
        return f"  {verdict}  {self.text}"


def intake_check(intake: IntakeFigures | None, bare: Figures | None) -> Check:
    target = (
        f"intake POST ≥ {MIN_RATIO} × bare insert, "
        f"p99 < {P99_INTAKE_TARGET * 1e3:.0f} ms at 80% of its maximum"
    )
    if intake is None or bare is None:
        return Check(None, f"{target}: run with --intake-only")
    share = ratio(intake.maximum.rate, bare.rate)
    passed = share >= MIN_RATIO and intake.paced.p99 < P99_INTAKE_TARGET
    return Check(
        passed,
        f"{target}: {per_second(intake.maximum.rate)}/s = {shown_ratio(share)} × "
        f"{per_second(bare.rate)}/s (concurrency {intake.concurrency}); "
        f"p99 {seconds(intake.paced.p99)} at {per_second(intake.paced_rate)}/s",
    )


def worklist_check(
    step: Figures | None, arrivals: float | None, temporal: TemporalCeiling | None
) -> Check:
    target = (
        f"accepted → on a worklist p99 < {seconds(P99_WORKLIST_TARGET)} at half the maximum rate"
    )
    if step is None or arrivals is None:
        return Check(None, f"{target}: run with --rate 0.5x (half the Temporal ceiling)")
    share = ratio(arrivals, temporal.completed.rate if temporal else None)
    of_ceiling = f" = {shown_ratio(share)} × the Temporal ceiling" if not math.isnan(share) else ""
    return Check(
        step.p99 < P99_WORKLIST_TARGET,
        f"{target}: p99 {seconds(step.p99)} (p50 {seconds(step.p50)}, {step.count} encounters) "
        f"at a steady {per_second(arrivals)} enc/s{of_ceiling}",
    )


def end_to_end_check(
    paid: Figures | None, total: int, temporal: TemporalCeiling | None, paced: bool
) -> Check:
    target = f"accepted → paid ≥ {MIN_RATIO} × the bare Temporal ceiling"
    if paid is None or temporal is None or paced:
        return Check(None, f"{target}: run without --rate (arrivals as fast as intake takes them)")
    share = ratio(paid.rate, temporal.completed.rate)
    short = f", only {paid.count} of {total} paid" if paid.count < total else ""
    return Check(
        share >= MIN_RATIO and paid.count == total,
        f"{target}: {per_second(paid.rate)} enc/s = {shown_ratio(share)} × "
        f"{per_second(temporal.completed.rate)}/s{short}",
    )


@dataclass
class Report:
    title: str
    context: list[str] = field(default_factory=list)
    ceilings: Ceilings = field(default_factory=Ceilings)
    concurrency: int = 0
    total: int = 0
    stages: Mapping[str, Figures] | None = None
    steps: Mapping[str, Figures] = field(default_factory=dict)
    intake: IntakeFigures | None = None
    usage: Mapping[str, Usage] | None = None
    cpu: Mapping[str, float] | None = None
    cpu_window: float = 0.0
    checks: Sequence[Check] = ()
    notes: Sequence[str] = ()


def _ceiling_lines(report: Report) -> list[str]:
    c, lines = report.ceilings, ["ceilings, measured in this run on the same servers"]
    rows = [
        (f"bare FastAPI insert (row + outbox row), concurrency {report.concurrency}", c.bare_insert)
    ]
    if c.generator:
        rows.insert(
            0,
            (
                f"load generator alone: POST /noop, concurrency {report.concurrency}",
                c.generator.figures,
            ),
        )
    for label, figures in rows:
        if figures:
            lines.append(
                f"  {label:<62} {per_second(figures.rate):>7} req/s  "
                f"p50 {seconds(figures.p50):>8}  p99 {seconds(figures.p99):>8}"
            )
    if c.generator:
        lines.append(
            f"  {'':<62} (the generator's own CPU: {seconds(c.generator.client_cpu)} a request, "
            f"{per_second(c.generator.client_limit)} req/s a core)"
        )
    if c.temporal:
        t = c.temporal
        lines.append(
            f"  {f'Temporal: trivial workflow + 1 activity, {t.workflows} workflows':<62} "
            f"{per_second(t.completed.rate):>7} done/s   "
            f"p50 {seconds(t.completed.p50):>8}  p99 {seconds(t.completed.p99):>8}  "
            f"(starts {per_second(t.starts_per_second)}/s; latency start → result)"
        )
    if c.pyx12:
        x = c.pyx12
        verdict = "valid" if x.valid else f"{x.errors} errors"
        lines.append(
            f"  {f'pyx12: the run’s {x.claims} claims as one file ({verdict})':<62} "
            f"{per_second(x.rate):>7} claims/s ({x.seconds:.2f} s)"
        )
    return lines


def _stage_lines(report: Report) -> list[str]:
    c = report.ceilings
    lines = [
        f"{'stage (latency from the POST)':<34} {'reached':>11} {'enc/s':>7} {'p50':>9} "
        f"{'p99':>9}   {'ceiling':<20} {'ratio':>6}"
    ]

    def row(label: str, reached: str, f: Figures) -> str:
        name = CEILING_OF[label]
        ceiling = c.rate(name)
        shown = f"{name} {per_second(ceiling)}/s" if ceiling else "-"
        return (
            f"{label:<34} {reached:>11} {per_second(f.rate):>7} {seconds(f.p50):>9} "
            f"{seconds(f.p99):>9}   {shown:<20} {shown_ratio(ratio(f.rate, ceiling)):>6}"
        )

    lines += [
        row(label, f"{f.count}/{report.total}", f) for label, f in (report.stages or {}).items()
    ]
    if report.steps:
        lines += ["", f"{'one step alone (latency of the step)':<34}"]
        lines += [row(label, str(f.count), f) for label, f in report.steps.items()]
    return lines


def _intake_lines(intake: IntakeFigures) -> list[str]:
    m, p = intake.maximum, intake.paced
    return [
        f"intake POST /v1/encounters alone ({intake.accepted} accepted, {intake.failed} failed)",
        f"  flat out at concurrency {intake.concurrency:<3} {per_second(m.rate):>7} req/s  "
        f"p50 {seconds(m.p50):>8}  p99 {seconds(m.p99):>8}",
        f"  paced at 80% of that {per_second(intake.paced_rate):>13} req/s  "
        f"p50 {seconds(p.p50):>8}  p99 {seconds(p.p99):>8}  ({p.count} answered)",
    ]


def _megabytes(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f} MB"


def _process_lines(report: Report) -> list[str]:
    if not report.usage:
        return ["processes: not measured (the stack was not started from this checkout)"]
    cpu = report.cpu or {}
    stack = {name: usage for name, usage in report.usage.items() if name != BENCH}
    busiest = max(stack, key=lambda name: cpu.get(name, 0.0)) if stack else None
    lines = [
        f"processes: CPU seconds during the run ({report.cpu_window:.0f} s; 100% = one core); "
        "memory at the end (PSS counts shared pages once)",
        f"  {'':<20} {'CPU':>8} {'%':>5} {'RSS':>9} {'PSS':>9}",
    ]
    for name, usage in sorted(report.usage.items(), key=lambda kv: -cpu.get(kv[0], 0.0)):
        used = cpu.get(name)
        seconds_used = f"{used:.1f} s" if used is not None else "-"
        share = f"{100 * used / report.cpu_window:.0f}%" if used is not None else ""
        mark = "  <- busiest" if name == busiest else ""
        lines.append(
            f"  {name:<20} {seconds_used:>8} {share:>5} {_megabytes(usage.rss_bytes):>9} "
            f"{_megabytes(usage.pss_bytes):>9}{mark}"
        )
    pss = [u.pss_bytes for u in stack.values()]
    total_pss = None if None in pss else sum(p or 0 for p in pss)
    total_rss = sum(u.rss_bytes for u in stack.values())
    lines.append(
        f"  {'the stack in all':<20} {'':>8} {'':>5} {_megabytes(total_rss):>9} "
        f"{_megabytes(total_pss):>9}"
    )
    return lines


def render(report: Report) -> str:
    """The whole printout."""
    blocks = [[report.title, *report.context], _ceiling_lines(report)]
    if report.intake:
        blocks.append(_intake_lines(report.intake))
    if report.stages:
        blocks.append(_stage_lines(report))
    if report.usage is not None or report.stages:
        blocks.append(_process_lines(report))
    blocks.append(["checks (issue 13, item 3)", *(c.line() for c in report.checks)])
    if report.notes:
        blocks.append(["notes", *(f"  {note}" for note in report.notes)])
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
