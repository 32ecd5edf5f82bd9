"""Traces and metrics on the real Kafka and database: intake's POST, its outbox relay and a
consumer share one trace (and the consumer's log line its id) when tracing is on, and nothing
of it when off; `/metrics` shows route and consumer histograms, per-partition lag and outbox
age with route templates for labels."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.intake.app import create_app
from shared import tracing
from shared.events.envelope import Envelope
from shared.http import service_app
from shared.kafka import Publisher
from shared.logging import configure_logging
from shared.outbox import add_to_outbox
from shared.service import Runtime
from shared.settings import ChartflowSettings
from tests.conftest import Stack
from tests.integration.intake_app import DEMO, hospital_key, settings, wait_for

pytestmark = pytest.mark.kafka


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test, into memory."""
    exporter = InMemorySpanExporter()
    tracing.enable(exporter, "test", batch=False)
    try:
        yield exporter
    finally:
        tracing.disable()
        exporter.shutdown()


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The services' log configuration (JSON), writing into a buffer."""
    out = io.StringIO()
    configure_logging("test", json=True)
    # Not cached: module loggers used later must not keep this buffer.
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(file=out), cache_logger_on_first_use=False
    )
    try:
        yield out
    finally:
        structlog.reset_defaults()


async def _first_message(stack: Stack, topic: str) -> Any:
    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=stack.kafka, auto_offset_reset="earliest", **stack.kafka_auth()
    )
    await reader.start()
    try:
        async with asyncio.timeout(30):
            while True:
                for messages in (await reader.getmany(timeout_ms=500)).values():
                    return messages[0]
    finally:
        await reader.stop()


async def _push_and_read(stack: Stack, namespace: str, tmp_path: Path) -> tuple[Any, Any]:
    """Intake accepts an encounter; its relay publishes it; the message as a consumer gets it,
    and the line the consumer logs while handling it."""
    app = create_app(settings(stack, namespace, tmp_path), frozenset({"api", "consumer"}))
    with TestClient(app) as client:
        key = hospital_key(client)
        accepted = client.post(
            "/v1/encounters", json=DEMO["encounters"][0]["encounter"], headers=key
        )
        assert accepted.status_code == 202
        message = await _first_message(stack, f"{namespace}encounters.received")
    # What a consumer of the message does (shared.kafka.Consumer): continue its context, log.
    if tracing.enabled():
        headers = message.headers or ()
        with tracing.consuming(message.topic, message.partition, message.offset, headers):
            structlog.get_logger().info("test.consumed", event_id=accepted.json()["id"])
    else:
        structlog.get_logger().info("test.consumed", event_id=accepted.json()["id"])
    return message, accepted


async def test_one_trace_from_the_post_through_the_outbox_and_kafka_to_the_consumer(
    stack: Stack,
    namespace: str,
    tmp_path: Path,
    spans: InMemorySpanExporter,
    log_lines: io.StringIO,
) -> None:
    message, _ = await _push_and_read(stack, namespace, tmp_path)

    finished = spans.get_finished_spans()
    [post] = [s for s in finished if s.name == "POST /v1/encounters"]
    trace_id = post.context.trace_id
    topic = f"{namespace}encounters.received"
    [publish] = [s for s in finished if s.name == f"{topic} publish"]
    [process] = [s for s in finished if s.name == f"{topic} process"]
    header = dict(message.headers)["traceparent"].decode()
    [line] = [json.loads(ln) for ln in log_lines.getvalue().splitlines() if "test.consumed" in ln]

    assert publish.context.trace_id == trace_id  # the relay, later, continued the POST
    assert header.split("-")[1] == format(trace_id, "032x")
    assert process.context.trace_id == trace_id and process.parent is not None
    assert process.parent.span_id == publish.context.span_id
    assert line["trace_id"] == format(trace_id, "032x")
    assert line["span_id"] == format(process.context.span_id, "016x")


async def test_tracing_off_makes_no_spans_no_headers_and_no_trace_ids(
    stack: Stack, namespace: str, tmp_path: Path, log_lines: io.StringIO
) -> None:
    watching = InMemorySpanExporter()
    tracing.enable(watching, "test", batch=False)
    tracing.disable()  # as a process with no exporter configured

    message, _ = await _push_and_read(stack, namespace, tmp_path)

    [line] = [json.loads(ln) for ln in log_lines.getvalue().splitlines() if "test.consumed" in ln]
    assert [s.name for s in watching.get_finished_spans()] == []
    assert not any(key == "traceparent" for key, _ in message.headers or ())
    assert "traceparent" not in json.loads(message.value)  # the envelope carries none either
    assert "trace_id" not in line and "span_id" not in line


def _metric(client: TestClient, name: str, **labels: str) -> float:
    # The exposition format lists labels sorted by name.
    wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(wanted + " ") or (not labels and line.startswith(name + " ")):
            return float(line.split()[-1])
    return 0.0


def _partition_lags(client: TestClient, topic: str) -> dict[str, float]:
    """`chartflow_consumer_partition_lag` of the topic, by its `partition` label."""
    found = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("chartflow_consumer_partition_lag{") and f'topic="{topic}"' in line:
            partition = line.split('partition="')[1].split('"')[0]
            found[partition] = float(line.split()[-1])
    return found


async def test_metrics_show_route_and_consumer_histograms_partition_lag_and_outbox_age(
    stack: Stack, namespace: str, tmp_path: Path
) -> None:
    service_settings = ChartflowSettings(
        service_name="intake",  # a real service: its migrations make the database
        **stack.kafka_settings("intake"),
        database_url=stack.database_url,
        chartflow_var=tmp_path,
        chartflow_namespace_prefix=namespace,
    )
    topic = service_settings.topic("claims.status")
    gate = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        await gate.wait()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(service_settings, [])
        app.state.runtime = rt
        rt.start_consumer("claims.status", handler)
        yield
        await rt.stop()

    app = service_app("probe", service_settings, lifespan)

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    try:
        with TestClient(app) as client:
            for n in range(3):
                client.get(f"/v1/things/mrn-{n}")
            rt: Runtime = app.state.runtime
            event = Envelope(type="test.outbox", source="t", subject="k", tenant="t",
                             dataschema="x", data={})  # fmt: skip
            await rt.db.run(lambda s: add_to_outbox(s, topic, event))  # no relay runs here
            for n in range(3):
                await publisher.publish(topic, event.model_copy(update={"id": f"e{n}"}))
            # One key, one partition: three messages behind while the first is in hand.
            behind = await asyncio.to_thread(
                wait_for, lambda: 3 in _partition_lags(client, topic).values()
            )
            gate.set()
            caught_up = await asyncio.to_thread(
                wait_for, lambda: set(_partition_lags(client, topic).values()) == {0}
            )
            ok = {"topic": topic, "outcome": "ok"}
            handled = _metric(client, "chartflow_consumer_seconds_count", **ok)
            slowest = _metric(client, "chartflow_consumer_seconds_sum", **ok)
            route = {"method": "GET", "route": "/v1/things/{thing_id}", "status_class": "2xx"}
            requests = _metric(client, "chartflow_http_request_seconds_count", **route)
            outbox_age = _metric(client, "chartflow_outbox_oldest_seconds")
            outbox_depth = _metric(client, "chartflow_outbox_pending")
            text = client.get("/metrics").text
    finally:
        await publisher.stop()

    assert behind and caught_up
    assert handled == 3 and slowest > 0  # the first waited for the gate
    assert requests == 3
    assert outbox_depth == 1 and outbox_age > 0
    assert "mrn-" not in text  # labels are route templates, never the ids in the path
