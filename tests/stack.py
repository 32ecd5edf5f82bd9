"""Where the test session's Kafka, Temporal and PostgreSQL are, and who tests are on Kafka."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.local.stack import SEARCH_ATTRIBUTES
from shared.kafka_access import provision_namespace, remove_namespace
from shared.kafka_security import kafka_auth
from shared.settings import ChartflowSettings


@dataclass(frozen=True)
class Stack:
    kafka: str
    temporal: str
    database_url: str | None
    # deploy/local's var/kafka/credentials (one client file per principal); None: an open
    # broker (testcontainers) without SASL or ACLs.
    kafka_credentials: Path | None = None
    kafka_protocol: str = "SASL_PLAINTEXT"  # SASL_SSL under KAFKA_TLS=1
    kafka_ssl_cafile: Path | None = None

    def kafka_settings(self, principal: str = "admin") -> dict[str, Any]:
        """Settings fields for Kafka clients as `principal` (admin: a super user)."""
        if self.kafka_credentials is None:
            return {"kafka_bootstrap_servers": self.kafka, "kafka_security_protocol": "PLAINTEXT"}
        settings: dict[str, Any] = {
            "kafka_bootstrap_servers": self.kafka,
            "kafka_security_protocol": self.kafka_protocol,
            "kafka_credentials_file": self.kafka_credentials / f"{principal}.properties",
        }
        if self.kafka_ssl_cafile:
            settings["kafka_ssl_cafile"] = self.kafka_ssl_cafile
        return settings

    def kafka_auth(self, principal: str = "admin") -> dict[str, Any]:
        """aiokafka keyword arguments (besides bootstrap_servers) to connect as `principal`."""
        return kafka_auth(ChartflowSettings(**self.kafka_settings(principal)))

    async def provision(self, prefix: str) -> None:
        """Create the namespace's topics and ACLs (an open broker auto-creates topics)."""
        if self.kafka_credentials is not None:
            await provision_namespace(ChartflowSettings(**self.kafka_settings()), prefix)

    async def remove(self, prefix: str) -> None:
        if self.kafka_credentials is not None:
            await remove_namespace(ChartflowSettings(**self.kafka_settings()), prefix)


SEARCH_ATTRIBUTES_FLAGS = " ".join(
    f"--search-attribute {name}={kind}" for name, kind in SEARCH_ATTRIBUTES.items()
)
