"""Assignment on the real Temporal dev server, its activities on the real Kafka and database,
and coding's worklists fed by the real `coding.tasks` consumer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from services.assignment.db import TABLES, VendorPool
from services.assignment.domain.models import CodingStatus
from services.assignment.handlers import AssignmentHandlers
from services.assignment.ops import EncounterOps
from services.assignment.settings import AssignmentSettings
from services.assignment.worker import build_worker
from services.assignment.workflows import EncounterCoding, workflow_id
from services.coding import handlers as coding_handlers
from services.coding.db import TABLES as CODING_TABLES
from services.coding.db import CodingRepository
from shared import migrations
from shared.db import Database
from shared.events import topics
from shared.events.claims import ClaimStatusChanged, TriageItem
from shared.events.codes import DiagnosisCode
from shared.events.coding import CodingSubmitted
from shared.events.envelope import Envelope, EventData
from shared.events.intake import BillingProvider, EncounterDocument, EncounterReceived
from shared.kafka import Consumer, Publisher
from shared.kafka_security import kafka_auth
from shared.outbox import OutboxEvent, ProcessedEvent
from shared.settings import ChartflowSettings
from shared.temporal import connect
from tests.conftest import Stack

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())


@dataclass
class Assignment:
    handlers: AssignmentHandlers
    ops: EncounterOps
    client: Client
    settings: AssignmentSettings
    db: Database
    coding_db: Database
    stack: Stack

    def handle(self, encounter_key: str) -> WorkflowHandle[EncounterCoding, CodingStatus]:
        return self.client.get_workflow_handle_for(
            EncounterCoding.run,
            workflow_id(encounter_key, self.settings.chartflow_namespace_prefix),
        )

    async def status(self, encounter_key: str) -> CodingStatus:
        return await self.handle(encounter_key).query(EncounterCoding.status)

    async def wait_for(
        self, encounter_key: str, ready: Callable[[CodingStatus], bool], seconds: float = 30
    ) -> CodingStatus:
        """The workflow's status once `ready` holds (polled)."""
        async with asyncio.timeout(seconds):
            while not ready(status := await self.status(encounter_key)):
                await asyncio.sleep(0.2)
        return status

    async def wait_for_search(self, encounter_key: str, query: str) -> None:
        """Until the Temporal UI's search (visibility) finds the workflow with `query`."""
        async with asyncio.timeout(30):
            while not await self.found(encounter_key, query):
                await asyncio.sleep(0.3)

    async def found(self, encounter_key: str, query: str) -> bool:
        """Whether the search `query` finds the encounter's workflow now."""
        only = f"({query}) AND WorkflowId = '{self.handle(encounter_key).id}'"
        return bool([wf async for wf in self.client.list_workflows(only)])

    async def messages(self, topic: str, count: int) -> list[Envelope]:
        return await read_messages(self.stack, self.settings.topic(topic), count)

    async def worklists(self) -> dict[str, list[str]]:
        """Open task ids per coder, as coding's worklists show them."""

        def read(session: Any) -> dict[str, list[str]]:
            repo = CodingRepository(session)
            return {c: [t.id for t in repo.worklist(c)] for c in ("coder-ava", "coder-ben")}

        return await self.coding_db.run(read)

    async def worklists_become(self, expected: dict[str, list[str]]) -> None:
        async with asyncio.timeout(30):
            while await self.worklists() != expected:
                await asyncio.sleep(0.2)

    async def claim_comes_back(
        self,
        encounter_key: str,
        status: str = "paid",
        version: int = 1,
        step: int = 4,
        triage: list[TriageItem] | None = None,
    ) -> None:
        """A step of the encounter's claim `version`, as claims announces it on claims.status."""
        change = ClaimStatusChanged(
            encounter_key=encounter_key,
            claim_id=f"claim-{version}",
            patient_control_number=f"PCN{version}",
            claim_type="professional",
            status=status,
            total_charge=Decimal("330.00"),
            reason=f"835: {status}",
            paid=Decimal("280.50") if status in ("paid", "partially_paid") else None,
            version=version,
            frequency="1" if version == 1 else "7",
            payer_id="ACMEHLTH",
            payer_claim_id=f"PAYER{version}",
            triage=triage or [],
            step=step,
        )
        await self.handlers.on_claim_status(wrap(change, encounter_key))

    async def result_once_paid(self, encounter_key: str) -> CodingStatus:
        """The workflow's result: it waits at `released` until its claim is paid."""
        await self.wait_for(encounter_key, lambda s: s.status == "released")
        await self.claim_comes_back(encounter_key)
        return await self.handle(encounter_key).result()

    async def submit(self, task_id: str, encounter_key: str) -> None:
        submitted = CodingSubmitted(
            task_id=task_id,
            encounter_key=encounter_key,
            coder_id="coder-ava",
            diagnoses=[DiagnosisCode(code="E11.9")],
            procedures=[],
        )
        await self.handlers.on_coding_submitted(wrap(submitted, encounter_key))


def wrap(data: EventData, encounter_key: str) -> Envelope:
    return Envelope.wrap(data, source="test", subject=encounter_key, tenant="mercy")


def pool(pool_id: str, sla_seconds: int) -> VendorPool:
    return VendorPool(
        id=pool_id,
        vendor_id="northstar",
        name=pool_id,
        credentials="CPC",
        encounter_classes="professional",
        sla_seconds=sla_seconds,
    )


def received(unique: str) -> Envelope:
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
    return wrap(event, key)


def received_from(unique: str, hospital: str, external_id: str, served_on: date) -> Envelope:
    """The demo encounter as `hospital`'s, served on `served_on` (its DNFB day)."""
    item = {**DEMO["encounters"][0]["encounter"], "external_id": external_id}
    item["service_date"] = served_on.isoformat()
    key = f"{unique}{hospital}:{external_id}"
    event = (
        received(unique)
        .payload(EncounterReceived)
        .model_copy(
            update={
                "encounter_key": key,
                "hospital_id": hospital,
                "encounter": EncounterDocument.model_validate(item),
            }
        )
    )
    return Envelope.wrap(event, source="test", subject=key, tenant=hospital)


async def read_messages(stack: Stack, topic: str, count: int) -> list[Envelope]:
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


def of_type(envelopes: list[Envelope], kind: type[EventData]) -> list[Any]:
    return [e.payload(kind) for e in envelopes if e.type == kind.event_type]


async def replay_and_save(
    handle: WorkflowHandle[Any, Any], name: str | None = None
) -> WorkflowHistory:
    """Replay the run with today's code; save it as a Replayer test fixture `name` when asked:
    SAVE_WORKFLOW_HISTORY=tests/fixtures/histories."""
    history = await handle.fetch_history()
    await Replayer(
        workflows=[EncounterCoding], data_converter=pydantic_data_converter
    ).replay_workflow(history)
    if name and (save_to := os.environ.get("SAVE_WORKFLOW_HISTORY")):
        Path(save_to, f"{name}.json").write_text(history.to_json())
    return history


def _coding_database(settings: AssignmentSettings) -> Database:
    coding = ChartflowSettings(
        service_name="coding",
        database_url=settings.database_url,
        chartflow_namespace_prefix=settings.chartflow_namespace_prefix,
        chartflow_var=settings.chartflow_var,
    )
    db = Database(coding.service_database_url(), [*CODING_TABLES, OutboxEvent, ProcessedEvent])
    migrations.upgrade(db, "coding")
    for coder in ("coder-ava", "coder-ben"):

        def register(session: Any, c: str = coder) -> object:
            pools = ["fast", "slow", "only", "pro-pool"]
            return coding_handlers.register_coder(
                session, c, "northstar", c, pools, ["CPC"], "coder"
            )

        db.run_sync(register)
    return db


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
    coding_db = _coding_database(settings)
    client = await connect(settings)
    publisher = Publisher(stack.kafka, **kafka_auth(settings))
    await publisher.start()
    # Coding's worklists, fed as coding (its principal, its consumer group).
    coding_publisher = Publisher(stack.kafka, **stack.kafka_auth("coding"))
    await coding_publisher.start()
    worklists = Consumer(
        stack.kafka,
        settings.topic(topics.CODING_TASKS),
        f"{namespace}coding.{topics.CODING_TASKS}",
        lambda envelope: coding_db.run(lambda s: coding_handlers.take_task(s, envelope)),
        coding_publisher,
        **stack.kafka_auth("coding"),
    )
    await worklists.start()
    feeding = asyncio.create_task(worklists.run_forever())
    try:
        async with build_worker(client, db, publisher, settings):
            yield Assignment(
                AssignmentHandlers(db, client, settings),
                EncounterOps(db, client, settings),
                client,
                settings,
                db,
                coding_db,
                stack,
            )
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        await worklists.stop()
        await coding_publisher.stop()
        await publisher.stop()
        db.close()
        coding_db.close()
