"""Which span exporters a process starts with: the Chartflow setting, else the standard
`OTEL_TRACES_EXPORTER`, which may list several."""

from __future__ import annotations

import pytest

from shared.tracing import exporter_names


def test_off_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    assert exporter_names(None) == ["none"]


def test_the_standard_variables_list_of_exporters_is_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp, Console,otlp")
    assert exporter_names(None) == ["otlp", "console"]
    assert exporter_names("console") == ["console"]  # Chartflow's own setting comes first


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("otlp,zipkin", "not zipkin"),
        ("jaeger", "not jaeger"),
        ("none,console", "none cannot be listed with others"),
    ],
)
def test_an_unknown_or_contradictory_list_is_refused_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", value)
    with pytest.raises(ValueError, match=message):
        exporter_names(None)
