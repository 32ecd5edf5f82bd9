"""The Temporal worker that runs EncounterCoding and its activities."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from services.assignment import TASK_QUEUE
from services.assignment.activities import AssignmentActivities
from services.assignment.audit_activities import AuditActivities
from services.assignment.backlog import Backlog
from services.assignment.workflows import EncounterCoding
from shared.db import Database
from shared.kafka import Publisher
from shared.settings import ChartflowSettings

# The sandbox re-imports every module a workflow imports, for each new workflow instance: with
# our packages passed through, a new encounter costs no imports (compiling and executing them
# was a fifth of assignment's profile samples under load). The sandbox still runs the workflow
# code; the Replayer tests replay every saved history under the SDK's default sandbox too.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("services", "shared")
)

# A workflow task for a cached workflow waits this long for this worker before any worker
# may take it: under load the default 10 s held signals (a code submission) that long.
STICKY_WAIT = timedelta(seconds=1)
WORKFLOW_TASK_POLLS = 64  # half of them on the normal queue, half on this worker's sticky one
# Workflows kept in memory between their tasks. Past it, a waiting encounter's next signal (an
# offer, a submission) makes the worker fetch and replay its whole history: a 10,000-encounter
# burst waits in the backlogs at once, and the SDK's default keeps 1,000.
WORKFLOW_CACHE = 20_000


def build_worker(
    client: Client,
    db: Database,
    publisher: Publisher,
    settings: ChartflowSettings,
    backlog: Backlog | None = None,
) -> Worker:
    activities = AssignmentActivities(db, publisher, settings, client, backlog)
    audits = AuditActivities(db, publisher, settings, client)
    return Worker(
        client,
        task_queue=settings.topic(TASK_QUEUE),
        workflows=[EncounterCoding],
        workflow_runner=WORKFLOW_RUNNER,
        # Every new encounter's first workflow task comes from the normal (non-sticky) queue,
        # and each poll waits on the server recording the task as started: the SDK's default
        # of one such poller (5 x 0.2) handed out first tasks one at a time.
        max_concurrent_workflow_task_polls=WORKFLOW_TASK_POLLS,
        nonsticky_to_sticky_poll_ratio=0.5,
        sticky_queue_schedule_to_start_timeout=STICKY_WAIT,
        max_cached_workflows=WORKFLOW_CACHE,
        activities=[
            activities.route_to_pool,
            activities.join_backlog,
            activities.pool_assignment,
            activities.pool_of_task,
            activities.publish_coding_task,
            activities.notify_tasks,
            activities.withdraw_tasks,
            activities.cancel_encounter,
            activities.remind_hospital,
            activities.escalate,
            activities.release_coded_encounter,
            activities.return_to_hospital,
            audits.sampling_facts,
            audits.publish_audit_task,
        ],
    )
