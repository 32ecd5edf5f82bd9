"""Where the test session's Kafka, Temporal and PostgreSQL are."""

from __future__ import annotations

from dataclasses import dataclass

from deploy.local.stack import SEARCH_ATTRIBUTES


@dataclass(frozen=True)
class Stack:
    kafka: str
    temporal: str
    database_url: str | None


SEARCH_ATTRIBUTES_FLAGS = " ".join(
    f"--search-attribute {name}={kind}" for name, kind in SEARCH_ATTRIBUTES.items()
)
