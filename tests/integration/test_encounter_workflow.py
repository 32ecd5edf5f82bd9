"""EncounterCoding on the real Temporal dev server, its activities on the real Kafka and DB."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from services.assignment.db import TABLES, VendorPool
from services.assignment.handlers import AssignmentHandlers
from services.assignment.settings import AssignmentSettings
from services.assignment.worker import build_worker
from services.assignment.workflows import EncounterCoding, workflow_id
from shared.db import Database
from shared.events import topics
from shared.events.assignment import CodingTaskCreated, EncounterCoded
from shared.events.codes import DiagnosisCode
from shared.events.coding import CodingSubmitted
from shared.events.envelope import Envelope
from shared.events.intake import BillingProvider, EncounterDocument, EncounterReceived
from shared.kafka import Publisher
from shared.temporal import connect
from tests.conftest import Stack

pytestmark = [pytest.mark.temporal, pytest.mark.kafka]

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())


@dataclass
class Assignment:
    handlers: AssignmentHandlers
    client: Client
    settings: AssignmentSettings
    db: Database


@pytest.fixture
async def assignment(stack: Stack, unique: str, tmp_path: Path) -> AsyncIterator[Assignment]:
    settings = AssignmentSettings(
        kafka_bootstrap_servers=stack.kafka,
        temporal_address=stack.temporal,
        database_url=stack.database_url,
        chartflow_namespace_prefix=unique,
        chartflow_var=tmp_path,
    )
    db = Database(settings.service_database_url(), TABLES)
    db.create_all()
    client = await connect(settings)
    publisher = Publisher(stack.kafka)
    await publisher.start()
    async with build_worker(client, db, publisher, settings):
        yield Assignment(AssignmentHandlers(db, client, settings), client, settings, db)
    await publisher.stop()
    db.close()


def _pool(pool_id: str, sla_seconds: int) -> VendorPool:
    return VendorPool(
        id=pool_id,
        vendor_id="northstar",
        name=pool_id,
        credentials="CPC",
        encounter_classes="professional",
        sla_seconds=sla_seconds,
    )


def _received(unique: str) -> Envelope:
    item = DEMO["encounters"][0]["encounter"]
    document = EncounterDocument.model_validate(item)
    key = f"{unique}mercy:{document.external_id}"
    event = EncounterReceived(
        encounter_key=key,
        hospital_id="mercy",
        billing_provider=BillingProvider.model_validate(
            {k: DEMO["hospital"][k] for k in ("name", "npi", "tax_id", "address")}
        ),
        encounter=document,
    )
    return Envelope.wrap(event, source="test", subject=key, tenant="mercy")


async def _messages(stack: Stack, topic: str, count: int) -> list[Envelope]:
    reader = AIOKafkaConsumer(topic, bootstrap_servers=stack.kafka, auto_offset_reset="earliest")
    await reader.start()
    found: list[Envelope] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                batches = await reader.getmany(timeout_ms=500)
                found += [
                    Envelope.from_bytes(m.value or b"") for ms in batches.values() for m in ms
                ]
    finally:
        await reader.stop()
    return found


async def test_duplicate_message_starts_one_workflow_that_releases_the_coded_encounter(
    assignment: Assignment, stack: Stack, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(_pool("pro-pool", 3600)))
    received = _received(unique)

    await assignment.handlers.on_encounter_received(received)
    await assignment.handlers.on_encounter_received(received)  # redelivered

    [task_event] = await _messages(stack, assignment.settings.topic(topics.CODING_TASKS), 1)
    task = task_event.payload(CodingTaskCreated)
    assert task.pool_id == "pro-pool"
    submitted = CodingSubmitted(
        task_id=task.task_id,
        encounter_key=task.encounter_key,
        coder_id="coder-ava",
        diagnoses=[DiagnosisCode(code="E11.9")],
        procedures=[],
    )
    await assignment.handlers.on_coding_submitted(
        Envelope.wrap(submitted, source="test", subject=task.encounter_key, tenant="mercy")
    )
    handle = assignment.client.get_workflow_handle_for(
        EncounterCoding.run, workflow_id(task.encounter_key, unique)
    )
    result = await handle.result()

    assert result.status == "released"
    history = await handle.fetch_history()
    await Replayer(
        workflows=[EncounterCoding], data_converter=pydantic_data_converter
    ).replay_workflow(history)
    if save_to := os.environ.get("SAVE_WORKFLOW_HISTORY"):
        # Refresh the Replayer test's fixture: SAVE_WORKFLOW_HISTORY=tests/fixtures/histories
        Path(save_to, "encounter_coding_released.json").write_text(history.to_json())
    [coded] = await _messages(stack, assignment.settings.topic(topics.ENCOUNTERS_CODED), 1)
    assert coded.payload(EncounterCoded).diagnoses == [DiagnosisCode(code="E11.9")]
    starts = [
        wf
        async for wf in assignment.client.list_workflows(
            f"WorkflowId = '{workflow_id(task.encounter_key, unique)}'"
        )
    ]
    assert len(starts) == 1


async def test_sla_breach_reassigns_to_another_pool(
    assignment: Assignment, stack: Stack, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add_all([_pool("fast", 2), _pool("slow", 3600)]))
    # "fast" has the shorter SLA and so is tried first; nobody codes within 2 s.
    received = _received(unique)
    await assignment.handlers.on_encounter_received(received)

    tasks = await _messages(stack, assignment.settings.topic(topics.CODING_TASKS), 2)

    assert [t.payload(CodingTaskCreated).pool_id for t in tasks] == ["fast", "slow"]
    handle = assignment.client.get_workflow_handle(workflow_id(received.subject, unique))
    status = await handle.query(EncounterCoding.status)
    assert status.reassignments == 1
    assert "sla_breached" in status.history
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
    with contextlib.suppress(Exception):
        await handle.terminate("test over")
