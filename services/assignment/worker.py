"""The Temporal worker that runs EncounterCoding and its activities."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from services.assignment import TASK_QUEUE
from services.assignment.activities import AssignmentActivities
from services.assignment.audit_activities import AuditActivities
from services.assignment.workflows import EncounterCoding
from shared.db import Database
from shared.kafka import Publisher
from shared.settings import ChartflowSettings

# The sandbox re-imports every module a workflow imports, for each new workflow instance: with
# our packages passed through, a new encounter costs no imports (it was ~40 ms of compiling and
# executing modules under load, the worklist stage's bottleneck). The sandbox still runs the
# workflow code; determinism of our own modules is kept by review and the Replayer tests.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("services", "shared")
)


def build_worker(
    client: Client, db: Database, publisher: Publisher, settings: ChartflowSettings
) -> Worker:
    activities = AssignmentActivities(db, publisher, settings)
    audits = AuditActivities(db, publisher, settings)
    return Worker(
        client,
        task_queue=settings.topic(TASK_QUEUE),
        workflows=[EncounterCoding],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[
            activities.route_to_pool,
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
