"""CloudEvents-style envelope carried on every topic; its PHI fields travel encrypted."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.events.phi import PhiPaths, open_paths, seal_paths


class EventData(BaseModel):
    """Base of every event payload; subclasses name their type, schema version and PHI paths.

    `phi_paths` has no default: an event type that does not say which of its fields are PHI
    (`shared.events.phi`) cannot be published.
    """

    model_config = ConfigDict(extra="forbid")
    event_type: ClassVar[str]
    phi_paths: ClassVar[PhiPaths]
    schema_version: ClassVar[int] = 1

    @classmethod
    def dataschema(cls) -> str:
        return f"chartflow:{cls.event_type}/v{cls.schema_version}"


D = TypeVar("D", bound=EventData)


class Envelope(BaseModel):
    """`id` is what consumers deduplicate on; `subject` is the encounter key (the Kafka key)."""

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    source: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str
    tenant: str
    dataschema: str
    data: dict[str, Any]
    # CloudEvents distributed tracing extension: the W3C context of the request that wrote the
    # event, kept while it waits in an outbox (shared.tracing); absent when tracing is off.
    traceparent: str | None = Field(default=None, exclude_if=lambda value: value is None)

    @classmethod
    def wrap(
        cls, data: EventData, *, source: str, subject: str, tenant: str, id: str | None = None
    ) -> Envelope:
        return cls(
            id=id or str(uuid.uuid4()),
            type=data.event_type,
            source=source,
            subject=subject,
            tenant=tenant,
            dataschema=data.dataschema(),
            data=seal_paths(data.model_dump(mode="json"), data.phi_paths),
        )

    def payload(self, model: builtins.type[D]) -> D:
        """The payload as `model`, its PHI fields decrypted with the keys this service holds."""
        if self.type != model.event_type:
            raise ValueError(f"expected event type {model.event_type}, got {self.type}")
        return model.model_validate(open_paths(self.data, model.phi_paths))

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)
