"""What the Temporal UI shows about an encounter: a static summary at start and the current
details in Markdown. Ids, states and times only: no PHI."""

from __future__ import annotations

from datetime import datetime

from services.assignment.domain.claim_details import claim_lines
from services.assignment.domain.models import CodingStatus, EncounterCodingInput
from services.assignment.domain.routing import REQUIRED_CREDENTIALS

# Nothing is due any more.
SETTLED = ("released", "returned", "cancelled")


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "–"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return "".join(parts) + (f"{seconds}s" if seconds or not any(parts) else "")


def static_summary(request: EncounterCodingInput) -> str:
    """One line for the workflow list: hospital and encounter class."""
    return f"{request.hospital_id} · {request.encounter_class} encounter"


def static_details(request: EncounterCodingInput) -> str:
    credentials = ", ".join(sorted(REQUIRED_CREDENTIALS.get(request.encounter_class, ())))
    policy = request.query_policy
    reminders = ", ".join(_duration(s) for s in policy.reminder_seconds) or "none"
    return "\n".join(
        [
            f"**Hospital** `{request.hospital_id}` · **class** {request.encounter_class} · "
            f"**credential** {credentials or '–'}",
            f"**Reassignments on SLA breach** up to {request.max_reassignments}",
            f"**Physician query reminders** after {reminders}; escalation to the hospital's CDI "
            f"contact {_duration(policy.escalate_after_seconds)} after the last one",
        ]
    )


def current_details(status: CodingStatus, now: datetime) -> str:
    """The encounter's state now, as Markdown for the Temporal UI."""
    lines = [f"### {status.status.replace('_', ' ')}"]
    pool = f"pool `{status.pool_id}` · task `{status.task_id}`" if status.pool_id else "no pool yet"
    lines.append(f"**Assigned** {pool}")
    if status.due_at:
        settled = status.status in SETTLED or status.status.startswith("claim_")
        late = " (**past due**)" if status.due_at < now and not settled else ""
        paused, extended = status.sla_paused_seconds, status.sla_extended_seconds
        lines.append(
            f"**SLA due** {_time(status.due_at)}{late} · paused {_duration(paused)}"
            f" · extended {_duration(extended)}" + (" · **on hold**" if status.on_hold else "")
        )
    open_queries = [q for q in status.queries if q.status == "open"]
    lines.append(f"**Open queries** {len(open_queries)} of {len(status.queries)}")
    for query in open_queries:
        escalated = " · **escalated to the CDI contact**" if query.escalated else ""
        lines.append(
            f"- query `{query.query_id[:8]}` by {query.coder_id}, raised {_time(query.raised_at)}"
            f", {query.reminders_sent} reminder(s) sent{escalated}"
        )
    lines.append(f"**Reassignments after SLA breach** {status.reassignments}")
    for escalation in status.escalations:
        ack = (
            f"acknowledged by {escalation.acknowledged_by}"
            if escalation.acknowledged_by
            else "**not acknowledged**"
        )
        lines.append(
            f"**Escalation** {escalation.kind.replace('_', ' ')} at {_time(escalation.at)}, {ack}"
        )
    lines += claim_lines(status.claim, status.reworks)
    for action in status.ops_actions[-5:]:
        lines.append(
            f"**Ops** {action.action} by {action.by} at {_time(action.at)}"
            + (f" (ops action {action.action_id})" if action.action_id else "")
        )
    return "\n\n".join(lines)
