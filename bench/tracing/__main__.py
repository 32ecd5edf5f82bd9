"""python -m bench.tracing [--requests N]: what tracing costs on intake's POST, off and on.

No stack needed: intake's API in process on SQLite (Kafka unreachable: the POST only writes the
encounter and its outbox row). Prints (1) the per-call cost of each hook a request passes while
tracing is off, beside (2) the POST's own latency measured in the same run with tracing off,
and (3) the same POST with tracing on (in-memory exporter, every span kept).
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import secrets
import statistics
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared import tracing
from tests.integration.intake_app import DEMO

#: Off-hooks one accepted POST passes: the outbox row's check, the database call's context
#: copy, and a log line's processor (a POST logs at most a couple of lines).
HOOKS_PER_POST = {"enabled()": 2, "copy_context()": 3, "add_trace_ids": 2}


def hook_costs(loops: int = 200_000) -> dict[str, float]:
    """Nanoseconds per call of each hook with tracing off."""
    event: dict[str, object] = {"event": "x"}
    calls: dict[str, Callable[[], object]] = {
        "enabled()": tracing.enabled,
        "copy_context()": contextvars.copy_context,
        "add_trace_ids": lambda: tracing.add_trace_ids(None, "info", event),
    }
    return {name: timeit.timeit(call, number=loops) / loops * 1e9 for name, call in calls.items()}


def intake_client(stack: contextlib.ExitStack, var: Path) -> tuple[TestClient, dict[str, str]]:
    """Intake's API on its own SQLite file, with a hospital registered; the client and key."""
    admin = secrets.token_urlsafe(32)
    settings = IntakeSettings(
        chartflow_var=var, admin_token=admin, kafka_bootstrap_servers="127.0.0.1:1"
    )
    client = stack.enter_context(TestClient(create_app(settings, frozenset({"api"}))))
    bearer = {"Authorization": f"Bearer {admin}"}
    answer = client.post("/v1/admin/hospitals", json=DEMO["hospital"], headers=bearer)
    return client, {"X-API-Key": answer.json()["api_key"]}


def timed_posts(client: TestClient, key: dict[str, str], tag: str, count: int) -> list[float]:
    encounter = DEMO["encounters"][0]["encounter"]
    seconds = []
    for n in range(count):
        body = {**encounter, "external_id": f"bench-{tag}-{n}"}
        began = time.perf_counter()
        assert client.post("/v1/encounters", json=body, headers=key).status_code == 202
        seconds.append(time.perf_counter() - began)
    return seconds


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"mean {statistics.mean(seconds) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    costs = hook_costs()
    per_post = sum(costs[name] * count for name, count in HOOKS_PER_POST.items())
    spans = InMemorySpanExporter()
    off: list[float] = []
    on: list[float] = []
    with contextlib.ExitStack() as stack:
        off_client, off_key = intake_client(stack, Path(stack.enter_context(TemporaryDirectory())))
        tracing.enable(spans, "bench", batch=False)
        on_tracer = tracing._tracer  # on and off alternate: a busy machine weighs on both alike
        on_client, on_key = intake_client(stack, Path(stack.enter_context(TemporaryDirectory())))
        timed_posts(off_client, off_key, "warm-off", 20)
        timed_posts(on_client, on_key, "warm-on", 20)
        for block in range(args.requests // 25):
            tracing._tracer = None
            off += timed_posts(off_client, off_key, f"off{block}", 25)
            tracing._tracer = on_tracer
            on += timed_posts(on_client, on_key, f"on{block}", 25)
        tracing.disable()
    print("hooks with tracing off (ns per call):")
    for name, ns in costs.items():
        print(f"  {name:<16} {ns:8.0f} ns  x{HOOKS_PER_POST[name]} per POST")
    mean_off = statistics.mean(off)
    print(f"off-hooks per POST: {per_post / 1e3:.2f} us = {per_post / 1e9 / mean_off:.4%} of it")
    print(f"intake POST, tracing off: {summary(off)}  ({len(off)} requests)")
    print(f"intake POST, tracing on:  {summary(on)}  ({len(on)} requests)")
    print(f"on / off mean: {statistics.mean(on) / mean_off:.2f}")


if __name__ == "__main__":
    main()
