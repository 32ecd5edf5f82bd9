"""Prometheus text-format counters for ops, without a client library: `GET /metrics`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from threading import Lock

LabelValues = tuple[tuple[str, str], ...]


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help_text = help_text
        self._values: dict[LabelValues, float] = defaultdict(float)
        self._lock = Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] += amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help_text}", f"# TYPE {self.name} counter"]
        with self._lock:
            for key, value in sorted(self._values.items()):
                lines.append(f"{self.name}{_labels(key)} {value:g}")
        return lines


def _labels(key: LabelValues) -> str:
    if not key:
        return ""
    inner = ",".join(f'{k}="{v}"' for k, v in key)
    return "{" + inner + "}"


HTTP_REQUESTS = Counter("chartflow_http_requests_total", "HTTP requests by route and status.")
EVENTS_CONSUMED = Counter("chartflow_events_consumed_total", "Events handled, by topic.")
EVENTS_DEAD_LETTERED = Counter(
    "chartflow_events_dead_lettered_total", "Events sent to a dead-letter topic, by topic."
)
OUTBOX_PUBLISHED = Counter("chartflow_outbox_published_total", "Outbox events published.")
COUNTERS = (HTTP_REQUESTS, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, OUTBOX_PUBLISHED)


def render(gauges: Mapping[str, tuple[str, Callable[[], float]]] | None = None) -> str:
    """Every counter, plus gauges computed now (name -> (help, read))."""
    lines = [line for counter in COUNTERS for line in counter.render()]
    for name, (help_text, read) in (gauges or {}).items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {read():g}"]
    return "\n".join(lines) + "\n"
