"""Where Temporal's time goes: the round trips one workflow costs the server, read from the
histories of the run's own workflows beside the trivial ceiling's."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

LOCAL_ACTIVITY_MARKER = "core_local_activity"


@dataclass(frozen=True)
class HistoryShape:
    workflows: int
    events: float  # history events per workflow (each a write on the server)
    workflow_tasks: float  # workflow tasks completed (a poll and a completion each)
    activities: float  # activity tasks (a poll and a completion each)
    local_activities: float  # run inside a workflow task: no round trip of their own
    signals: float

    def line(self, label: str) -> str:
        return (
            f"{label}: {self.events:.1f} history events, {self.workflow_tasks:.1f} workflow "
            f"tasks, {self.activities:.1f} activity tasks, {self.local_activities:.1f} local "
            f"activities, {self.signals:.1f} signals per workflow (mean of {self.workflows})"
        )


async def shape(client: Client, workflow_ids: list[str]) -> HistoryShape | None:
    counts: Counter[str] = Counter()
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            counts["events"] += 1
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                counts["workflow_tasks"] += 1
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                counts["activities"] += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                counts["signals"] += 1
            elif (
                kind == EventType.EVENT_TYPE_MARKER_RECORDED
                and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            ):
                counts["local_activities"] += 1
    n = len(workflow_ids)
    if n == 0:
        return None
    return HistoryShape(
        workflows=n,
        events=counts["events"] / n,
        workflow_tasks=counts["workflow_tasks"] / n,
        activities=counts["activities"] / n,
        local_activities=counts["local_activities"] / n,
        signals=counts["signals"] / n,
    )


async def completed_ids(client: Client, query: str, limit: int) -> list[str]:
    ids: list[str] = []
    async for execution in client.list_workflows(query, limit=limit):
        ids.append(execution.id)
    return ids
