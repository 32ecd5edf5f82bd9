"""The Temporal UI searches ops save as views (visibility list filters over the workflows'
search attributes). Times are absolute in a list filter: `saved_views(now)` fills them in."""

from __future__ import annotations

from datetime import datetime, timedelta

VIEWS = {
    "past its SLA, clock running": (
        "WorkflowType = 'EncounterCoding' AND ExecutionStatus = 'Running' "
        "AND SlaDueAt < '{now}' AND QueryPending = false AND OnHold = false"
    ),
    "open physician query older than two days": (
        "QueryPending = true AND QueryOpenSince < '{two_days_ago}'"
    ),
    "escalated, not acknowledged": "EscalationStatus = 'open'",
    "on hold": "OnHold = true",
    "waiting for the physician": "QueryPending = true",
    "escalated (ever)": "Escalated = true",
    "cancelled by ops": "CodingStatus = 'cancelled'",
}


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def saved_views(now: datetime) -> dict[str, str]:
    """Each view's list filter as of `now` (UTC)."""
    times = {"now": _at(now), "two_days_ago": _at(now - timedelta(days=2))}
    return {name: query.format(**times) for name, query in VIEWS.items()}
