"""The four services as real processes, isolated by a unique topic / queue / database prefix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.demo.driver import Endpoints, Scenario
from tests.conftest import REPO, Stack

SERVICES = ("intake", "assignment", "coding", "claims")
ADMIN_TOKEN = "e2e-admin-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not healthy within 60s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def platform(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The four services, seeded with the demo's hospital, pools, coder and payer.

    `E2E_WITHOUT=claims` stops that service once the data is seeded, to show the tests fail
    when any part of the path is missing.
    """
    left_out = os.environ.get("E2E_WITHOUT", "")
    var = tmp_path_factory.mktemp("var")
    prefix = f"e2e{uuid.uuid4().hex[:8]}."
    ports = {name: _free_port() for name in SERVICES}
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka,
        "TEMPORAL_ADDRESS": stack.temporal,
        "CHARTFLOW_NAMESPACE_PREFIX": prefix,
        "CHARTFLOW_VAR": str(var),
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "LOG_JSON": "true",
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    if stack.database_url:
        env["DATABASE_URL"] = stack.database_url
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in SERVICES:
            log = var / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}", "run"],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes[name] = process
            _wait_healthy(f"http://127.0.0.1:{ports[name]}", process, log)
        scenario = Scenario(Endpoints.local(ports, ADMIN_TOKEN))
        scenario.seed()
        if left_out:
            processes[left_out].terminate()
            processes[left_out].wait(timeout=15)
        yield scenario
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
