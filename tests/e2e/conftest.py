"""The four services as real processes, isolated by a unique topic / queue / database prefix."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
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
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not healthy within 120s: {log.read_text()[-2000:]}")


class Services:
    """The four service processes of one isolated platform; each can be killed and restarted."""

    def __init__(self, stack: Stack, var: Path, role: str = "run", prefix: str = "e2e") -> None:
        self.stack = stack
        self.var = var
        self.role = role
        self.ports = {name: _free_port() for name in SERVICES}
        self.prefix = f"{prefix}{uuid.uuid4().hex[:8]}."
        self.env = {
            **os.environ,
            "TEMPORAL_ADDRESS": stack.temporal,
            "CHARTFLOW_NAMESPACE_PREFIX": self.prefix,
            "CHARTFLOW_VAR": str(var),
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "LOG_JSON": "true",
            **{f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
        }
        if stack.database_url:
            self.env["DATABASE_URL"] = stack.database_url
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = self.var / f"{name}.log"
        # Each service is its own Kafka principal, held to its ACLs.
        kafka = {key.upper(): str(v) for key, v in self.stack.kafka_settings(name).items()}
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}", self.role],
                cwd=REPO,
                env={**self.env, **kafka},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes[name] = process
        _wait_healthy(f"http://127.0.0.1:{self.ports[name]}", process, log)

    def start_all(self, names: Iterable[str]) -> None:
        # One after the other: the first creates the shared PHI key file the others read.
        for name in names:
            self.start(name)

    def stop(self, name: str, kill: bool = False) -> None:
        process = self.processes.pop(name)
        if kill:
            process.kill()  # SIGKILL: no shutdown hooks, as in a crash
        else:
            process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


@pytest.fixture(scope="module")
def services(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    running = Services(stack, tmp_path_factory.mktemp("var"))
    asyncio.run(stack.provision(running.prefix))
    try:
        running.start_all(SERVICES)
        yield running
    finally:
        running.stop_all()
        asyncio.run(stack.remove(running.prefix))


@pytest.fixture(scope="module")
def platform(services: Services) -> Scenario:
    """The four services, seeded with the demo's hospital, pools, coder and payer.

    `E2E_WITHOUT=claims` stops that service once the data is seeded, to show the tests fail
    when any part of the path is missing.
    """
    scenario = Scenario(Endpoints.local(services.ports, ADMIN_TOKEN))
    scenario.seed()
    if left_out := os.environ.get("E2E_WITHOUT"):
        services.stop(left_out)
    return scenario
