"""What ops read in the Temporal UI: the static summary and the current details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.assignment.domain.details import current_details, static_details, static_summary
from services.assignment.domain.models import (
    CodingStatus,
    EncounterCodingInput,
    Escalation,
    OpsAction,
    QueryPolicy,
    QueryState,
)

NOW = datetime(2026, 9, 14, 12, tzinfo=UTC)


def test_the_static_summary_names_hospital_and_class_and_the_details_the_policies() -> None:
    request = EncounterCodingInput(
        encounter_key="mercy:ENC-1",
        hospital_id="mercy",
        encounter_class="inpatient",
        query_policy=QueryPolicy(reminder_seconds=[86_400, 3_600 + 60], escalate_after_seconds=30),
    )

    assert static_summary(request) == "mercy · inpatient encounter"
    details = static_details(request)
    assert "**credential** CCS" in details
    assert "after 1d, 1h1m; escalation to the hospital's CDI contact 30s after" in details


def test_current_details_show_state_sla_open_queries_escalations_and_ops() -> None:
    status = CodingStatus(
        encounter_key="mercy:ENC-1",
        status="query_pending",
        pool_id="pro",
        task_id="task-1",
        due_at=NOW - timedelta(hours=1),
        sla_paused_seconds=90,
        queries=[
            QueryState(
                query_id="q1234567-x",
                task_id="task-1",
                coder_id="ava",
                status="open",
                raised_at=NOW,
                reminders_sent=2,
                escalated=True,
            ),  # fmt: skip
            QueryState(query_id="q2", task_id="task-1", coder_id="ava", status="answered"),
        ],
        escalations=[
            Escalation(escalation_id="e1", kind="query_unanswered", at=NOW),
            Escalation(escalation_id="e2", kind="no_other_pool", at=NOW, acknowledged_by="jo"),
        ],
        ops_actions=[OpsAction(action="hold", by="jo", at=NOW, action_id=7, reason="ticket 42")],
    )

    details = current_details(status, NOW)

    assert details.startswith("### query pending")
    assert "pool `pro` · task `task-1`" in details
    assert "**SLA due** 2026-09-14 11:00:00 UTC (**past due**) · paused 1m30s" in details
    assert "**Open queries** 1 of 2" in details
    assert "query `q1234567` by ava, raised 2026-09-14 12:00:00 UTC, 2 reminder(s) sent" in details
    assert "escalated to the CDI contact" in details
    assert (
        "**Escalation** query unanswered at 2026-09-14 12:00:00 UTC, **not acknowledged**"
        in details
    )
    assert "**Escalation** no other pool at 2026-09-14 12:00:00 UTC, acknowledged by jo" in details
    assert "**Ops** hold by jo at 2026-09-14 12:00:00 UTC (ops action 7)" in details
    assert "ticket 42" not in details  # free text stays out of the Temporal UI
