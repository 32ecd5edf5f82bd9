"""Accepted means durable: intake answers 202 while Kafka is down, and the relay delivers later."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.events.envelope import Envelope
from shared.events.intake import EncounterReceived
from shared.kafka import Publisher
from shared.outbox import OutboxRelay
from tests.conftest import ADMIN_TOKEN, Stack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _settings(stack: Stack, unique: str, tmp_path: Path, kafka: str) -> IntakeSettings:
    return IntakeSettings(
        kafka_bootstrap_servers=kafka,
        database_url=stack.database_url,
        chartflow_namespace_prefix=unique,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
    )


async def test_encounter_accepted_while_kafka_is_down_is_published_once_it_is_back(
    stack: Stack, unique: str, tmp_path: Path
) -> None:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    down = _settings(stack, unique, tmp_path, kafka="127.0.0.1:1")  # nothing listens there
    with TestClient(create_app(down, frozenset({"api"}))) as client:
        key = client.post("/v1/admin/hospitals", json=DEMO["hospital"], headers=ADMIN).json()
        encounters = [item["encounter"] for item in DEMO["encounters"][:2]]
        answers = [
            client.post(
                "/v1/encounters",
                json=e,
                headers={"X-API-Key": key["api_key"], "Idempotency-Key": f"push-{n}"},
            )
            for n, e in enumerate(encounters)
        ]
        headers = {"X-API-Key": key["api_key"], "Idempotency-Key": "push-0"}
        retry = client.post("/v1/encounters", json=encounters[0], headers=headers)
        misuse = client.post("/v1/encounters", json=encounters[1], headers=headers)

    assert [a.status_code for a in answers] == [202, 202]
    assert misuse.status_code == 409
    assert misuse.headers["content-type"] == "application/problem+json"
    assert retry.status_code == 202
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == answers[0].json()["id"]

    # Kafka is back: a relay over the same database publishes what was accepted, once.
    up = _settings(stack, unique, tmp_path, kafka=stack.kafka)
    app = create_app(up, frozenset({"api"}))
    with TestClient(app):
        runtime = app.state.runtime
        publisher = Publisher(stack.kafka)
        await publisher.start()
        relay = OutboxRelay(runtime.db, publisher)
        try:
            first = await relay.publish_pending()
            second = await relay.publish_pending()
        finally:
            await publisher.stop()

    assert (first, second) == (2, 0)  # the retry and the misuse stored nothing new
    received = await _read(stack, up.topic("encounters.received"), 2)
    external_ids = [e.payload(EncounterReceived).encounter.external_id for e in received]
    assert sorted(external_ids) == sorted(e["external_id"] for e in encounters)  # each once
    assert {e.id for e in received} == {a.json()["id"] for a in answers}


async def _read(stack: Stack, topic: str, count: int) -> list[Envelope]:
    """Every message on the topic: at least `count`, and whatever follows within a second."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=stack.kafka, auto_offset_reset="earliest")
    await reader.start()
    found: list[Envelope] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                for messages in (await reader.getmany(timeout_ms=500)).values():
                    found += [Envelope.from_bytes(m.value or b"") for m in messages]
        for messages in (await reader.getmany(timeout_ms=1000)).values():
            found += [Envelope.from_bytes(m.value or b"") for m in messages]
    finally:
        await reader.stop()
    return found
