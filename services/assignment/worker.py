"""The Temporal worker that runs EncounterCoding and its activities."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from services.assignment import TASK_QUEUE
from services.assignment.activities import AssignmentActivities
from services.assignment.audit_activities import AuditActivities
from services.assignment.workflows import EncounterCoding
from shared.db import Database
from shared.kafka import Publisher
from shared.settings import ChartflowSettings


def build_worker(
    client: Client, db: Database, publisher: Publisher, settings: ChartflowSettings
) -> Worker:
    activities = AssignmentActivities(db, publisher, settings, client)
    audits = AuditActivities(db, publisher, settings, client)
    return Worker(
        client,
        task_queue=settings.topic(TASK_QUEUE),
        workflows=[EncounterCoding],
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
