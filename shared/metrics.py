"""Prometheus metrics every service exposes on `GET /metrics` (prometheus_client).

Counters count as things happen; the gauges that need a look at the database or the consumers
(`chartflow_outbox_pending`, consumer lag) are set when `/metrics` is scraped.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Gauge

HTTP_REQUESTS = Counter(
    "chartflow_http_requests_total",
    "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)
EVENTS_CONSUMED = Counter("chartflow_events_consumed_total", "Events handled, by topic.", ["topic"])
EVENTS_DEAD_LETTERED = Counter(
    "chartflow_events_dead_lettered_total",
    "Events sent to a dead-letter topic, by topic.",
    ["topic"],
)
EVENTS_RETRIED = Counter(
    "chartflow_events_retried_total",
    "Handler attempts that failed transiently and were retried, by topic and error type.",
    ["topic", "error"],
)
EVENTS_SUPERSEDED = Counter(
    "chartflow_events_superseded_total",
    "Events skipped because a newer event of the same key made them redundant, by topic.",
    ["topic"],
)
OUTBOX_PUBLISHED = Counter("chartflow_outbox_published_total", "Outbox events published.")
OUTBOX_PENDING = Gauge("chartflow_outbox_pending", "Outbox events not yet published.")
CONSUMER_LAG = Gauge(
    "chartflow_consumer_lag",
    "Messages on a consumer's assigned partitions not yet handled.",
    ["topic", "group"],
)
CONSUMER_STUCK_SECONDS = Gauge(
    "chartflow_consumer_stuck_seconds",
    "How long a consumer has been handling (or retrying) the oldest message in hand.",
    ["topic", "group"],
)
DLQ_DEPTH = Gauge(
    "chartflow_dlq_depth",
    "Messages in a dead-letter topic not yet replayed (python -m shared.dlq).",
    ["topic"],
)
UNEXPECTED_ERRORS = Counter(
    "chartflow_http_unexpected_errors_total",
    "Requests answered 500, by route template and error type.",
    ["route", "error"],
)


def sample(name: str, **labels: str) -> float:
    """The current value of one sample (0 when it was never set): what `/metrics` shows."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
