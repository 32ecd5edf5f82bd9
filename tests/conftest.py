"""The real Kafka, Temporal and PostgreSQL, started once per session by deploy/local.

When their addresses are given in the environment (KAFKA_BOOTSTRAP_SERVERS, TEMPORAL_ADDRESS,
DATABASE_URL), the session reuses them; otherwise it starts them with `deploy/local/stack.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stack:
    kafka: str
    temporal: str
    database_url: str | None


def _stack_env() -> dict[str, str]:
    command = [sys.executable, str(REPO / "deploy/local/stack.py")]
    subprocess.run([*command, "up", "--postgres"], check=True, cwd=REPO)
    out = subprocess.run(
        [*command, "env"], check=True, cwd=REPO, capture_output=True, text=True
    ).stdout
    env = {}
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name.strip()] = value.strip().strip("'\"")
    return env


@pytest.fixture(scope="session")
def stack() -> Stack:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("TEMPORAL_ADDRESS"):
        env = dict(os.environ)
    else:
        env = _stack_env()
    return Stack(
        kafka=env["KAFKA_BOOTSTRAP_SERVERS"],
        temporal=env["TEMPORAL_ADDRESS"],
        database_url=env.get("DATABASE_URL") or None,
    )


@pytest.fixture
def unique() -> str:
    """A prefix that isolates a test's topics, task queues and databases."""
    return f"t{uuid.uuid4().hex[:10]}."
