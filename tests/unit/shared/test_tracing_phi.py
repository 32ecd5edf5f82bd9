"""Spans leave the process with an error's type, never its message (which can quote PHI)."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel

from shared import tracing


class Patient(BaseModel):
    birth_date: int


def test_a_refused_value_in_an_exception_does_not_reach_the_exported_span() -> None:
    exporter = InMemorySpanExporter()
    tracing.enable(exporter, "test", batch=False)
    try:
        with pytest.raises(ValueError), tracing.span("claims.build_claim"):
            Patient.model_validate({"birth_date": "Munoz 12/04/1968"})
    finally:
        tracing.disable()

    (span,) = [s for s in exporter.get_finished_spans() if s.name == "claims.build_claim"]
    exported = span.to_json()
    assert "Munoz" not in exported and "1968" not in exported
    assert [e.attributes["exception.type"] for e in span.events if e.name == "exception"] == [
        "pydantic_core._pydantic_core.ValidationError"
    ]
    assert json.loads(exported)["status"]["status_code"] == "ERROR"
