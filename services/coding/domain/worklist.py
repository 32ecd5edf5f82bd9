"""Where a coding task stands on its coder's worklist."""

from __future__ import annotations

#: A task in one of these states never comes back to a worklist.
CLOSED = frozenset({"submitted", "returned", "withdrawn"})


def task_status(current: str, *, has_coder: bool, held: bool, open_queries: int) -> str:
    """Workable ("open") only when assigned, not on hold and with no physician query open."""
    if current in CLOSED:
        return current
    if held:
        return "on_hold"
    if open_queries:
        return "awaiting_answer"
    return "open" if has_coder else "unassigned"
