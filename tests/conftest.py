"""The real Kafka, Temporal and PostgreSQL, started once per session.

In order of preference: the addresses given in the environment (KAFKA_BOOTSTRAP_SERVERS,
TEMPORAL_ADDRESS, DATABASE_URL, and KAFKA_CREDENTIALS_DIR, KAFKA_SECURITY_PROTOCOL,
KAFKA_SSL_CAFILE for who tests are on Kafka), as `make test` does (`stack.py env`);
testcontainers when a Docker engine answers; otherwise the processes of `deploy/local/stack.py`,
started here.
Tests that use Kafka take the `namespace` fixture: their prefix, with its topics and ACLs.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from shared.crypto import use_phi_key
from tests.containers import containers, docker_engine_available
from tests.stack import Stack

REPO = Path(__file__).resolve().parent.parent
#: Services refuse short or well-known admin tokens: tests use a random one.
ADMIN_TOKEN = secrets.token_urlsafe(32)

__all__ = ["ADMIN_TOKEN", "REPO", "Stack"]

# Tests that open a service's database without its runtime still need a PHI key.
use_phi_key(Fernet.generate_key())
# A stack's HL7_PORT in the shell would have every in-process intake app listen on it; tests
# that want the MLLP listener give each intake process a free port of its own.
os.environ.pop("HL7_PORT", None)


def _local_stack_env() -> dict[str, str]:
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


def _stack_from(env: dict[str, str]) -> Stack:
    return Stack(
        kafka=env["KAFKA_BOOTSTRAP_SERVERS"],
        temporal=env["TEMPORAL_ADDRESS"],
        database_url=env.get("DATABASE_URL") or None,
        kafka_credentials=_path(env.get("KAFKA_CREDENTIALS_DIR")),
        kafka_protocol=env.get("KAFKA_SECURITY_PROTOCOL") or "SASL_PLAINTEXT",
        kafka_ssl_cafile=_path(env.get("KAFKA_SSL_CAFILE")),
    )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("TEMPORAL_ADDRESS"):
        yield _stack_from(dict(os.environ))
    elif docker_engine_available():
        with containers() as running:
            yield running
    else:
        yield _stack_from(_local_stack_env())


@pytest.fixture
def unique() -> str:
    """A prefix that isolates a test's topics, task queues and databases."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
async def namespace(stack: Stack, unique: str) -> AsyncIterator[str]:
    """`unique`, with its Kafka topics and the services' ACLs (removed after the test)."""
    await stack.provision(unique)
    yield unique
    await stack.remove(unique)
