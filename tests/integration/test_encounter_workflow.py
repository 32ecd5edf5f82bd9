"""EncounterCoding on the real Temporal dev server, its activities on the real Kafka and DB."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from services.assignment.db import TABLES, AssignmentRepository, VendorPool
from services.assignment.handlers import AssignmentHandlers
from services.assignment.settings import AssignmentSettings
from services.assignment.worker import build_worker
from services.assignment.workflows import EncounterCoding, workflow_id
from shared import migrations
from shared.db import Database
from shared.events import topics
from shared.events.assignment import CodingTaskCreated, EncounterCoded, EncounterReturned
from shared.events.codes import DiagnosisCode
from shared.events.coding import CodingReturned, CodingSubmitted
from shared.events.envelope import Envelope
from shared.events.intake import BillingProvider, EncounterDocument, EncounterReceived
from shared.kafka import Publisher
from shared.kafka_security import kafka_auth
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
async def assignment(stack: Stack, namespace: str, tmp_path: Path) -> AsyncIterator[Assignment]:
    settings = AssignmentSettings(
        **stack.kafka_settings("assignment"),  # held to assignment's ACLs
        temporal_address=stack.temporal,
        database_url=stack.database_url,
        chartflow_namespace_prefix=namespace,
        chartflow_var=tmp_path,
    )
    db = Database(settings.service_database_url(), TABLES)
    migrations.upgrade(db, "assignment")
    client = await connect(settings)
    publisher = Publisher(stack.kafka, **kafka_auth(settings))
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
    """Every message on the topic: at least `count`, and whatever follows within a second."""
    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=stack.kafka, auto_offset_reset="earliest", **stack.kafka_auth()
    )
    await reader.start()
    found: list[Envelope] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                found += _envelopes(await reader.getmany(timeout_ms=500))
        found += _envelopes(await reader.getmany(timeout_ms=1000))
    finally:
        await reader.stop()
    return found


def _envelopes(batches: dict[Any, list[Any]]) -> list[Envelope]:
    return [Envelope.from_bytes(m.value or b"") for ms in batches.values() for m in ms]


def _save_history(history: WorkflowHistory, name: str) -> None:
    if save_to := os.environ.get("SAVE_WORKFLOW_HISTORY"):
        # Refresh the Replayer test's fixtures: SAVE_WORKFLOW_HISTORY=tests/fixtures/histories
        Path(save_to, f"{name}.json").write_text(history.to_json())


async def _submit(assignment: Assignment, task: CodingTaskCreated) -> None:
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


async def test_duplicate_message_starts_one_workflow_that_releases_the_coded_encounter(
    assignment: Assignment, stack: Stack, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(_pool("pro-pool", 3600)))
    received = _received(unique)

    await assignment.handlers.on_encounter_received(received)
    await assignment.handlers.on_encounter_received(received)  # redelivered while running
    task = (await _messages(stack, assignment.settings.topic(topics.CODING_TASKS), 1))[0]
    await _submit(assignment, task.payload(CodingTaskCreated))
    handle = assignment.client.get_workflow_handle_for(
        EncounterCoding.run, workflow_id(received.subject, unique)
    )
    result = await handle.result()
    await assignment.handlers.on_encounter_received(received)  # redelivered after it closed

    assert result.status == "released"
    profiles = await assignment.db.run(lambda s: AssignmentRepository(s).pool_profiles())
    assert [p.open_tasks for p in profiles] == [0]  # coded: the pool's capacity is free again
    tasks = await _messages(stack, assignment.settings.topic(topics.CODING_TASKS), 1)
    assert [t.payload(CodingTaskCreated).pool_id for t in tasks] == ["pro-pool"]
    [coded] = await _messages(stack, assignment.settings.topic(topics.ENCOUNTERS_CODED), 1)
    assert coded.payload(EncounterCoded).diagnoses == [DiagnosisCode(code="E11.9")]
    runs = assignment.client.list_workflows(
        f"WorkflowId = '{workflow_id(received.subject, unique)}'"
    )
    assert len([wf async for wf in runs]) == 1
    history = await handle.fetch_history()
    await Replayer(
        workflows=[EncounterCoding], data_converter=pydantic_data_converter
    ).replay_workflow(history)
    _save_history(history, "encounter_coding_released")


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
    # Both tasks are open (late work still counts), so both count on their pool's capacity.
    profiles = await assignment.db.run(lambda s: AssignmentRepository(s).pool_profiles())
    assert {p.pool_id: p.open_tasks for p in profiles} == {"fast": 1, "slow": 1}
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
    with contextlib.suppress(Exception):
        await handle.terminate("test over")


async def test_sla_breach_with_no_other_pool_keeps_the_task_and_late_codes_still_count(
    assignment: Assignment, stack: Stack, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(_pool("only", 2)))
    received = _received(unique)
    await assignment.handlers.on_encounter_received(received)
    handle = assignment.client.get_workflow_handle_for(
        EncounterCoding.run, workflow_id(received.subject, unique)
    )
    task = (await _messages(stack, assignment.settings.topic(topics.CODING_TASKS), 1))[0]
    async with asyncio.timeout(30):
        while (await handle.query(EncounterCoding.status)).status != "sla_breached":
            await asyncio.sleep(0.2)

    await _submit(assignment, task.payload(CodingTaskCreated))  # late, but good work
    result = await handle.result()

    tasks = await _messages(stack, assignment.settings.topic(topics.CODING_TASKS), 1)
    assert len(tasks) == 1  # the same pool was not handed a second task
    assert result.status == "released"
    assert result.reassignments == 1
    assert result.history == ["assigned", "sla_breached", "coded", "released"]
    history = await handle.fetch_history()
    _save_history(history, "encounter_coding_breached")


async def test_a_returned_encounter_goes_back_to_the_hospital_and_the_workflow_ends(
    assignment: Assignment, stack: Stack, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(_pool("pro-pool", 3600)))
    received = _received(unique)
    await assignment.handlers.on_encounter_received(received)
    handle = assignment.client.get_workflow_handle_for(
        EncounterCoding.run, workflow_id(received.subject, unique)
    )
    task = (await _messages(stack, assignment.settings.topic(topics.CODING_TASKS), 1))[0]
    created = task.payload(CodingTaskCreated)
    returned = CodingReturned(
        task_id=created.task_id,
        encounter_key=created.encounter_key,
        coder_id="coder-ava",
        reason="demographics_invalid",
        note="birth date after the visit",
    )
    envelope = Envelope.wrap(returned, source="test", subject=created.encounter_key, tenant="m")

    await assignment.handlers.on_coding_submitted(envelope)  # coding.events carries both
    result = await asyncio.wait_for(handle.result(), 30)
    await _submit(assignment, created)  # codes after the return change nothing

    assert result.status == "returned"
    assert result.history == ["assigned", "returned"]
    [back] = await _messages(stack, assignment.settings.topic(topics.ENCOUNTERS_RETURNED), 1)
    assert back.payload(EncounterReturned).reason == "demographics_invalid"
    assert back.payload(EncounterReturned).note == "birth date after the visit"
    profiles = await assignment.db.run(lambda s: AssignmentRepository(s).pool_profiles())
    assert [p.open_tasks for p in profiles] == [0]
    assert await _messages(stack, assignment.settings.topic(topics.ENCOUNTERS_CODED), 0) == []
    history = await handle.fetch_history()
    assert "birth date after the visit" not in history.to_json()  # the note stays out
    _save_history(history, "encounter_coding_returned")
