"""The benchmark's intake on the local stack as any service runs there: its own namespace of
topics and ACLs (topics are never created on first use), intake's Kafka principal, and an admin
token of its own (short or well-known tokens are refused)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.kafka_access import provision_namespace, remove_namespace
from shared.kafka_security import operator_settings

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def bench_namespace(prefix: str) -> Iterator[dict[str, str]]:
    """Provision `prefix` for the run (removed after it); the settings intake needs, as
    environment variables."""
    credentials = Path(
        os.environ.get("KAFKA_CREDENTIALS_DIR") or REPO / "var" / "kafka" / "credentials"
    )
    admin = operator_settings().model_copy(
        update={"kafka_credentials_file": credentials / "admin.properties"}
    )
    asyncio.run(provision_namespace(admin, prefix))
    try:
        yield {
            "CHARTFLOW_NAMESPACE_PREFIX": prefix,
            "ADMIN_TOKEN": secrets.token_urlsafe(32),
            "KAFKA_CREDENTIALS_FILE": str(credentials / "intake.properties"),
        }
    finally:
        asyncio.run(remove_namespace(admin, prefix))
