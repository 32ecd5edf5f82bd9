"""Accepted means durable: intake answers 202 while Kafka is down; its relay, running all along,
publishes every accepted encounter once Kafka is back, and each exactly once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.events.intake import EncounterReceived
from shared.outbox import pending_count
from tests.conftest import ADMIN_TOKEN, Stack
from tests.integration.conftest import read_messages

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _settings(stack: Stack, unique: str, tmp_path: Path, kafka: str) -> IntakeSettings:
    return IntakeSettings(
        **{**stack.kafka_settings("intake"), "kafka_bootstrap_servers": kafka},
        database_url=stack.database_url,
        chartflow_namespace_prefix=unique,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
    )


async def test_encounter_accepted_while_kafka_is_down_is_published_once_it_is_back(
    stack: Stack, namespace: str, tmp_path: Path
) -> None:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    settings = _settings(stack, namespace, tmp_path, kafka="127.0.0.1:1")  # nothing listens there
    app = create_app(settings, frozenset({"api", "consumer"}))  # the relay runs throughout
    with structlog.testing.capture_logs() as logs, TestClient(app) as client:
        runtime = app.state.runtime
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
        await asyncio.sleep(3)  # the relay keeps trying while Kafka is down
        pending_during_outage = runtime.db.run_sync(pending_count)
        relay_tries = [e for e in logs if e.get("loop") == "outbox-relay"]

        # Kafka is back at the address the relay reconnects to: the same relay publishes.
        settings.kafka_bootstrap_servers = stack.kafka
        async with asyncio.timeout(45):
            while runtime.db.run_sync(pending_count):
                await asyncio.sleep(0.2)

    assert [a.status_code for a in answers] == [202, 202]
    assert misuse.status_code == 409
    assert misuse.headers["content-type"] == "application/problem+json"
    assert retry.status_code == 202
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == answers[0].json()["id"]
    assert pending_during_outage == 2  # the retry and the misuse stored nothing new
    assert relay_tries, "the relay never ran during the outage"
    received = await read_messages(stack, settings.topic("encounters.received"), 2)
    external_ids = [e.payload(EncounterReceived).encounter.external_id for e in received]
    assert sorted(external_ids) == sorted(e["external_id"] for e in encounters)  # each once
    assert {e.id for e in received} == {a.json()["id"] for a in answers}
