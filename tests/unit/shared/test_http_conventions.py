"""A 500 over real HTTP: problem+json with a correlation id that is in the log, no field value
in the log, and the keep-alive connection still serves the next request."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import structlog
import uvicorn
from fastapi import FastAPI

from shared.http import service_app
from shared.service import Runtime
from shared.settings import ChartflowSettings
from tests.integration.proxy import free_port

SECRET = "Maria Sample 1968-04-12"


def _app(tmp_path: Path) -> FastAPI:
    settings = ChartflowSettings(service_name="intake", chartflow_var=tmp_path, database_url=None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = Runtime.create(settings, [])
        yield
        await app.state.runtime.stop()

    app = service_app("probe", settings, lifespan)

    @app.get("/v1/boom")
    async def boom() -> dict[str, str]:
        raise ValueError(f"cannot bill {SECRET}")

    return app


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(_app(tmp_path), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    running.should_exit = True
    thread.join(10)


def test_a_500_keeps_the_connection_and_its_correlation_id_leads_to_a_log_without_values(
    server: int,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    with structlog.testing.capture_logs() as logs:
        connection.request("GET", "/v1/boom", headers={"X-Request-ID": "req-42"})
        failed = connection.getresponse()
        body = json.loads(failed.read())
    connection.request("GET", "/health")  # the same connection: it was kept alive
    after = connection.getresponse()
    after.read()
    connection.request("GET", "/v1/boom")
    generated = connection.getresponse()
    generated_body = json.loads(generated.read())
    connection.close()

    assert failed.status == 500
    assert failed.getheader("content-type") == "application/problem+json"
    assert failed.getheader("x-request-id") == "req-42"
    assert body["correlation_id"] == "req-42"
    assert after.status == 200
    assert generated_body["correlation_id"] == generated.getheader("x-request-id") != "req-42"
    [line] = [entry for entry in logs if entry["event"] == "http.unexpected_error"]
    assert line["request_id"] == "req-42"
    assert line["error"] == "ValueError"
    assert line["route"] == "/v1/boom"
    assert "test_http_conventions.py" in line["at"]
    assert SECRET not in json.dumps(logs, default=str)
