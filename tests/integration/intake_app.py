"""Intake as the integration tests run it: the real app (routes, lifespan, background loops)
in process, on the session's PostgreSQL and Kafka, isolated by a unique prefix."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from services.intake.settings import IntakeSettings
from tests.conftest import ADMIN_TOKEN, REPO, Stack

DEMO = json.loads((REPO / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FIXTURES = REPO / "tests/fixtures/fhir"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(stack: Stack, unique: str, tmp_path: Path, **extra: Any) -> IntakeSettings:
    """Intake's settings, on Kafka as intake's own principal."""
    return IntakeSettings(
        **stack.kafka_settings("intake"),
        database_url=stack.database_url,
        chartflow_namespace_prefix=unique,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
        **extra,
    )


def hospital_key(client: TestClient, **intake_settings: Any) -> dict[str, str]:
    """Register the demo hospital (with these intake settings); its X-API-Key header."""
    answer = client.post("/v1/admin/hospitals", json=DEMO["hospital"], headers=ADMIN)
    answer.raise_for_status()
    if intake_settings:
        url = f"/v1/admin/hospitals/{DEMO['hospital']['id']}/intake-settings"
        client.put(url, json=intake_settings, headers=ADMIN).raise_for_status()
    return {"X-API-Key": answer.json()["api_key"]}


@contextmanager
def served(app: Any, port: int) -> Iterator[str]:
    """The app behind a real HTTP server (uvicorn in a thread); its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "intake did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def wait_for(check: Any, timeout: float = 30, every: float = 0.2) -> Any:
    """Poll `check()` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)
