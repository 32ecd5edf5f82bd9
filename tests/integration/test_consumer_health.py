"""Readiness and metrics of a running service: `/health/ready` turns 503 while a consumer is
stuck on one message and recovers after; lag, stuck time and DLQ depth show on `/metrics`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.events.envelope import Envelope
from shared.http import service_app
from shared.kafka import Publisher, TransientError
from shared.service import Runtime
from shared.settings import ChartflowSettings
from tests.conftest import Stack

pytestmark = pytest.mark.kafka

TOPIC = "claims.status"


def _metric(client: TestClient, name: str) -> float:
    lines = client.get("/metrics").text.splitlines()
    return next((float(ln.split()[-1]) for ln in lines if ln.startswith(name)), 0.0)


def _wait(condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


async def test_readiness_turns_false_while_a_consumer_is_stuck_and_recovers(
    stack: Stack, namespace: str, tmp_path: Path
) -> None:
    settings = ChartflowSettings(
        service_name="intake",  # a real service: its migrations make the database,
        **stack.kafka_settings("intake"),
        chartflow_var=tmp_path,
        chartflow_namespace_prefix=namespace,
        ready_stuck_seconds=1.0,
        ready_max_consumer_lag=0,
        consumer_retry_budget_seconds=600,
        consumer_max_backoff_seconds=0.2,
    )
    broken = {"yes": True}

    async def handler(envelope: Envelope) -> None:
        if broken["yes"] and envelope.type == "test.stuck":
            raise TransientError("the downstream service does not answer")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(settings, [])
        rt.dlq_depth_seconds = 0.5
        app.state.runtime = rt
        rt.start_consumer(TOPIC, handler)
        yield
        await rt.stop()

    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    topic = settings.topic(TOPIC)
    dlq_depth = f'chartflow_dlq_depth{{topic="{topic}.dlq"}}'
    try:
        await publisher.send_raw(topic, "k", b"not an event")  # dead-lettered at once
        stuck = Envelope(type="test.stuck", source="t", subject="k", tenant="t", dataschema="x",
                         data={})  # fmt: skip
        await publisher.publish(topic, stuck)
        with TestClient(service_app("probe", settings, lifespan)) as client:
            # Lagging at once, stuck after a second: wait for both reasons.
            reasons = lambda: client.get("/health/ready").json()["reasons"]  # noqa: E731
            await asyncio.to_thread(_wait, lambda: len(reasons()) == 2)
            answer = client.get("/health/ready")
            not_ready = answer.json()
            live = client.get("/health").status_code
            stuck_seconds = _metric(client, "chartflow_consumer_stuck_seconds")
            lag = _metric(client, "chartflow_consumer_lag")
            await asyncio.to_thread(_wait, lambda: _metric(client, dlq_depth) == 1)

            broken["yes"] = False  # the dependency is back
            await asyncio.to_thread(_wait, lambda: client.get("/health/ready").status_code == 200)
            ready = client.get("/health/ready").json()
    finally:
        await publisher.stop()

    assert answer.status_code == 503
    assert not_ready["status"] == "not_ready"
    assert not_ready["reasons"][0].startswith(f"{topic}: one message in hand for")
    assert not_ready["reasons"][1] == f"{topic}: 1 messages behind"
    [consumer] = not_ready["consumers"]
    assert consumer["retrying"] and consumer["lag"] == 1
    assert live == 200  # liveness does not depend on the consumers
    assert stuck_seconds > 1 and lag == 1
    assert ready["status"] == "ready" and ready["consumers"][0]["lag"] == 0
