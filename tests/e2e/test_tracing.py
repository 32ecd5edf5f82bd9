"""One trace from the hospital's POST through Kafka and Temporal to the claim, across the four
real service processes, each exporting its spans with the console exporter (one JSON object
per line on its output) — the only exporter four processes can share with a test without a
collector."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.demo.driver import Endpoints, Scenario
from tests.conftest import Stack
from tests.e2e.conftest import SERVICES, Services

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

#: The hops of one encounter's trace, by service: (span name, or its start when it ends with *).
HOPS = {
    "intake": ["POST /v1/encounters", "*encounters.received publish"],
    "assignment": [
        "*encounters.received process",
        "StartWorkflow:EncounterCoding",
        "RunWorkflow:EncounterCoding",
        "RunActivity:publish_coding_task",
        "RunActivity:release_coded_encounter",
        "*encounters.coded publish",
    ],
    "coding": ["*coding.tasks process"],
    "claims": ["*encounters.coded process", "claims.build_claim", "*claims.status publish"],
}


def _lines(log: Path) -> Iterator[dict[str, Any]]:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except ValueError:
                continue  # a line the other stream cut in two


def _spans(services: Services, name: str) -> list[dict[str, Any]]:
    return [entry for entry in _lines(services.var / f"{name}.log") if "context" in entry]


def _named(spans: list[dict[str, Any]], pattern: str, trace_id: str) -> bool:
    def matches(span_name: str) -> bool:
        if pattern.startswith("*"):
            return span_name.endswith(pattern[1:])
        return span_name == pattern

    return any(s["context"]["trace_id"] == trace_id and matches(s["name"]) for s in spans)


@pytest.fixture(scope="module")
def traced(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    running = Services(stack, tmp_path_factory.mktemp("var"), prefix="trace")
    running.env.update({"TRACING_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100"})
    asyncio.run(stack.provision(running.prefix))
    try:
        running.start_all(SERVICES)
        yield running
    finally:
        running.stop_all()
        asyncio.run(stack.remove(running.prefix))


def test_one_trace_runs_from_the_hospitals_post_to_the_claim(traced: Services) -> None:
    platform = Scenario(Endpoints.local(traced.ports, traced.admin_token))
    platform.seed()
    encounter = platform.data["encounters"][0]["encounter"]
    accepted = platform.push(encounter)
    platform.run_until_claimed({"first": accepted}, timeout=90)

    [post] = [s for s in _spans(traced, "intake") if s["name"] == "POST /v1/encounters"]
    trace_id = post["context"]["trace_id"]  # 0x + 32 hex digits
    missing: dict[str, list[str]] = {}
    deadline = time.monotonic() + 30  # spans leave each process in batches
    while time.monotonic() < deadline:
        spans = {name: _spans(traced, name) for name in SERVICES}
        missing = {
            name: [hop for hop in hops if not _named(spans[name], hop, trace_id)]
            for name, hops in HOPS.items()
        }
        if not any(missing.values()):
            break
        time.sleep(0.5)

    assert not any(missing.values()), f"hops not in trace {trace_id}: {missing}"
    # A log line written inside the trace carries its id: the workflow's start in assignment.
    started = [
        entry
        for entry in _lines(traced.var / "assignment.log")
        if entry.get("event") == "workflow.started"
        and entry.get("encounter") == accepted["encounter_key"]
    ]
    assert [entry.get("trace_id") for entry in started] == [trace_id.removeprefix("0x")]


def test_metrics_show_workflow_stages_and_queue_depth_per_pool_and_no_phi(
    traced: Services,
) -> None:
    """After the encounter above: assignment's activity histogram and pool gauges; no
    service's `/metrics` names the patient or the encounter."""
    scraped = {
        name: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        for name, port in traced.ports.items()
    }
    lines = scraped["assignment"].splitlines()

    def value(sample: str) -> float:
        found = [float(ln.split()[-1]) for ln in lines if ln.startswith(sample + " ")]
        assert found, f"{sample} is not on assignment's /metrics"
        return found[0]

    activity = (
        'chartflow_workflow_activity_seconds_count{activity="publish_coding_task",outcome="ok"}'
    )
    assert value(activity) >= 1
    assert value('chartflow_pool_capacity{pool="northstar-pro"}') > 0
    assert value('chartflow_pool_open_tasks{pool="northstar-pro"}') == 0  # coded, so closed
    assert value('chartflow_pool_waiting_encounters{pool="none"}') == 0
    patient = Scenario(Endpoints.local(traced.ports, "")).data["encounters"][0]["encounter"]
    for name, text in scraped.items():
        assert 'chartflow_consumer_seconds_count{outcome="ok"' in text, name
        for phi in (patient["patient"]["last_name"], patient["external_id"] or "no-id"):
            assert phi not in text, (name, phi)
