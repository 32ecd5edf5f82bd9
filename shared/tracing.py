"""OpenTelemetry traces from the hospital's POST through Kafka and Temporal to the claim.

Off by default: no tracer provider, no spans, and every hook below is one boolean test. On
with `TRACING_EXPORTER=console|otlp` (a Chartflow setting) or the standard
`OTEL_TRACES_EXPORTER`; the OTLP exporter is the http/protobuf one and reads the standard
`OTEL_EXPORTER_OTLP_*` variables, and `OTEL_SERVICE_NAME` overrides the service's name.

The context travels as a W3C `traceparent`: in Kafka message headers (`producing`,
`consuming`), in Temporal headers (the SDK's `TracingInterceptor`), and on an event envelope
that waits in an outbox (its `traceparent` attribute, the CloudEvents tracing extension), so
the relay's publish continues the request that wrote the row.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import SpanKind, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

Exporter = Literal["none", "console", "otlp"]
TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None


def enabled() -> bool:
    """Whether spans are made: every hook checks this first, so tracing off costs nothing."""
    return _tracer is not None


def exporter_names(setting: str | None) -> list[Exporter]:
    """The Chartflow setting, else `OTEL_TRACES_EXPORTER`, else none: a comma-separated list
    as the OpenTelemetry spec allows (`otlp,console`); `none` alone turns tracing off."""
    raw = setting or os.environ.get("OTEL_TRACES_EXPORTER") or "none"
    names = [n.strip().lower() for n in raw.split(",") if n.strip()] or ["none"]
    wrong = [n for n in names if n not in ("none", "console", "otlp")]
    if wrong:
        raise ValueError(f"tracing exporters are none, console or otlp, not {', '.join(wrong)}")
    if "none" in names and len(names) > 1:
        raise ValueError(f"tracing exporter none cannot be listed with others: {raw!r}")
    return list(dict.fromkeys(names))  # type: ignore[arg-type]


class _Switch(Sampler):
    """Records what its parent does while tracing is on, nothing once `disable` ran (FastAPI's
    own telemetry and the SDK's interceptor use the global provider too)."""

    def __init__(self) -> None:
        self._on = ParentBased(ALWAYS_ON)

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        if _tracer is None:
            return SamplingResult(Decision.DROP)
        return self._on.should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return "ChartflowSwitch"


class _ErrorTypesOnly(SpanExporter):
    """Spans leave with an error's type, never its message: a validation error quotes the
    values it refused (PHI), and the instrumentations (FastAPI's, Temporal's, ours) record
    messages on exception events and in the status."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([_without_error_text(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _without_error_text(span: ReadableSpan) -> ReadableSpan:
    if not span.status.description and all(e.name != "exception" for e in span.events):
        return span
    events = [
        Event("exception", {"exception.type": str((e.attributes or {}).get("exception.type"))})
        if e.name == "exception"
        else e
        for e in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _one_line(span: ReadableSpan) -> str:
    return span.to_json(indent=None) + "\n"


def configure_tracing(service: str, setting: str | None) -> bool:
    """Turn tracing on for this process when an exporter is configured; True when on."""
    names = exporter_names(setting)
    if names == ["none"]:
        return enabled()
    for name in names:
        exporter: SpanExporter
        if name == "console":  # one JSON object per line on stdout
            exporter = ConsoleSpanExporter(out=sys.stdout, formatter=_one_line)
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        enable(exporter, service)
    return True


def enable(exporter: SpanExporter, service: str = "chartflow", batch: bool = True) -> None:
    """Export spans to `exporter` from now on (tests pass an in-memory one, `batch=False`)."""
    global _provider, _tracer
    if _provider is None:
        attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
        _provider = TracerProvider(resource=Resource.create(attributes), sampler=_Switch())
        trace.set_tracer_provider(_provider)
    safe = _ErrorTypesOnly(exporter)
    processor = BatchSpanProcessor(safe) if batch else SimpleSpanProcessor(safe)
    _provider.add_span_processor(processor)
    _tracer = _provider.get_tracer("chartflow")


def disable() -> None:
    """Stop making spans (tests; a process turns tracing on once and keeps it)."""
    global _tracer
    _tracer = None


def _active_tracer() -> trace.Tracer:
    assert _tracer is not None, "tracing is off"
    return _tracer


def span(name: str, **attributes: str | int) -> Any:
    """A span around a step (`with tracing.span("claims.build_claim"):`); nothing when off."""
    if _tracer is None:
        return nullcontext()
    return _tracer.start_as_current_span(name, attributes=attributes)


def current_traceparent() -> str | None:
    """The current span's `traceparent`, to store beside work that continues later."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def traceparent_in(payload: str) -> str | None:
    """The `traceparent` of a stored event envelope (JSON), when it has one."""
    if _tracer is None or TRACEPARENT not in payload:
        return None
    value = json.loads(payload).get(TRACEPARENT)
    return value if isinstance(value, str) else None


@contextmanager
def continuing(traceparent: str | None) -> Iterator[None]:
    """Make the context `traceparent` names current (e.g. the request that wrote an outbox row)."""
    if _tracer is None or not traceparent:
        yield
        return
    token = otel_context.attach(_PROPAGATOR.extract({TRACEPARENT: traceparent}))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def producing(topic: str) -> Iterator[list[tuple[str, bytes]]]:
    """A producer span; yields the Kafka headers that carry its context."""
    attributes = {"messaging.system": "kafka", "messaging.destination.name": topic}
    name = f"{topic} publish"
    producer = SpanKind.PRODUCER
    with _active_tracer().start_as_current_span(name, kind=producer, attributes=attributes):
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        yield [(key, value.encode()) for key, value in carrier.items()]


@contextmanager
def consuming(
    topic: str, partition: int, offset: int, headers: Sequence[tuple[str, bytes]]
) -> Iterator[None]:
    """A consumer span continuing the context in the message's headers."""
    wanted = (TRACEPARENT, "tracestate")
    carrier = {k: v.decode(errors="replace") for k, v in headers if k in wanted}
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
    }
    with _active_tracer().start_as_current_span(
        f"{topic} process",
        context=_PROPAGATOR.extract(carrier),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ):
        yield


def add_trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: `trace_id` and `span_id` of the current span, when tracing is on."""
    if _tracer is None:
        return event_dict
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def instrument_app(app: Any) -> None:
    """Server spans for a FastAPI app (route templates as names), when tracing is on."""
    if _provider is None or _tracer is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls="/health,/metrics",
        exclude_spans=["receive", "send"],
    )


def temporal_interceptors() -> list[Any]:
    """The Temporal SDK's `TracingInterceptor` when tracing is on (client and worker)."""
    if _tracer is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(_tracer)]
