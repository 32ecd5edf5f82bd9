"""The chaos run's tables: what each round's kill caught in flight, and each round's verdict."""

from __future__ import annotations

from tests.chaos.observer import STAGES
from tests.chaos.rounds import RoundResult

KILL_STAGES = ("accepted", *STAGES, "final")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def at_kill_table(results: list[RoundResult]) -> str:
    """Per round: how many encounters were past each stage when the SIGKILL went out."""
    head = f"{'round':<6}{'fault':<14}" + "".join(f"{s:>10}" for s in KILL_STAGES) + "  pids"
    lines = [head]
    for r in results:
        counts = "".join(f"{r.at_kill.get(s, '-'):>10}" for s in KILL_STAGES)
        pids = ",".join(map(str, r.pids)) or "-"
        lines.append(f"{r.plan.number:<6}{r.plan.fault.name:<14}{counts}  {pids}")
    return "\n".join(lines)


def verdict_table(results: list[RoundResult], expected: int) -> str:
    counts = (
        "pushed",
        "accepted",
        "claims",
        "corrected",
        "duplicates",
        "lost",
        "stuck",
        "dead-lettered",
    )
    columns = (*counts, "restart-s", "settle-s", "drain-s")
    lines = [f"{'round':<6}{'fault':<14}" + "".join(f"{c:>14}" for c in columns) + "  result"]
    for r in results:
        v = r.verdict
        numbers = (
            [
                v.pushed,
                v.accepted,
                v.claims,
                v.corrected,
                v.duplicates,
                v.lost,
                v.stuck,
                v.dead_lettered,
            ]
            if v is not None
            else ["-"] * 7
        )
        times = [_seconds(r.restart_seconds), _seconds(r.settle_seconds), _seconds(r.drain_seconds)]
        cells = "".join(f"{c:>14}" for c in [*numbers, *times])
        outcome = "ok" if r.passed(expected) else "FAILED"
        lines.append(f"{r.plan.number:<6}{r.plan.fault.name:<14}{cells}  {outcome}")
    return "\n".join(lines)


def notes(results: list[RoundResult]) -> str:
    """Final statuses, where unfinished encounters stopped, dead letters, client errors."""
    lines = []
    for r in results:
        name = r.plan.name
        if r.error:
            lines.append(f"{name}: did not finish: {r.error}")
        if r.verdict is not None:
            outcomes = ", ".join(f"{n} {s}" for s, n in sorted(r.verdict.outcomes.items()))
            lines.append(f"{name}: final claim statuses: {outcomes or 'none'}")
            if r.verdict.unfinished:
                where = ", ".join(f"{n} at {s}" for s, n in r.verdict.unfinished.most_common())
                lines.append(f"{name}: unfinished: {where}")
            payer = r.verdict.payer
            lines.append(
                f"{name}: the payer took {payer.interchanges} interchanges: {payer.resent} "
                f"again as the same ISA13, {payer.late} after a later one (taken over)"
            )
            for entry in r.verdict.dead_letters:
                lines.append(f"{name}: dead letter {entry.topic} {entry.error}: {entry.reason}")
        errors = {**{f"push {k}": n for k, n in r.push_errors.items()}}
        errors |= {f"code {k}": n for k, n in r.code_errors.items()}
        if errors:
            retried = ", ".join(f"{n} {k}" for k, n in sorted(errors.items()))
            lines.append(f"{name}: client calls retried: {retried}")
        lines.append(f"{name}: logs in {r.var}")
    return "\n".join(lines)
