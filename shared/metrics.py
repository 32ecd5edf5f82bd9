"""Prometheus metrics every service exposes on `GET /metrics` (prometheus_client).

Counters and histograms count as things happen; the gauges that need a look at the database or
the consumers (outbox depth and age, consumer lag, a service's own `scrape_hooks` such as
assignment's queue depth per pool) are set when `/metrics` is scraped. Label values are route
templates, topics, pools, activity types and outcomes: never ids, names or other PHI.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

#: Seconds, from a fast database write to a slow Temporal round trip or a retried message.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

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
OUTBOX_OLDEST_SECONDS = Gauge(
    "chartflow_outbox_oldest_seconds",
    "Age of the oldest outbox event not yet published (0 when none waits).",
)
HTTP_SECONDS = Histogram(
    "chartflow_http_request_seconds",
    "HTTP request latency by method, route template and status class (2xx, 4xx, 5xx).",
    ["method", "route", "status_class"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_SECONDS = Histogram(
    "chartflow_consumer_seconds",
    "Time from taking a message to being done with it, by topic and outcome "
    "(ok, retried: handled after failed attempts, dead_lettered).",
    ["topic", "outcome"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_PARTITION_LAG = Gauge(
    "chartflow_consumer_partition_lag",
    "Messages not yet handled on one partition: its highwater minus the next offset to handle.",
    ["topic", "partition", "group"],
)
ACTIVITY_SECONDS = Histogram(
    "chartflow_workflow_activity_seconds",
    "Workflow stages: Temporal activity durations by activity type and outcome (ok, failed).",
    ["activity", "outcome"],
    buckets=LATENCY_BUCKETS,
)
POOL_OPEN_TASKS = Gauge("chartflow_pool_open_tasks", "Open coding tasks per pool.", ["pool"])
POOL_CAPACITY = Gauge("chartflow_pool_capacity", "Open tasks a pool takes at most.", ["pool"])
POOL_WAITING = Gauge(
    "chartflow_pool_waiting_encounters",
    'Encounters waiting for a pool with capacity (pool="none": not routed to one yet).',
    ["pool"],
)
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
