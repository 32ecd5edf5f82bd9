"""Two instances of every service share the work, and one of each killed mid-stream loses
nothing and bills nothing twice.

Both instances of a service run the same consumer groups (Kafka splits each topic's three
partitions between them), poll the same Temporal task queue and share the service's database;
the test's HTTP clients go to both in turn (`Balancer`, as a Kubernetes Service would). Once
every instance has handled events of its own (its `/metrics`), one instance of each service
is SIGKILLed while encounters are still being pushed, coded and billed: the outbox relay's
leader where a service has one, so its standby must take over. The killed ones stay down;
the survivors must finish every encounter with exactly one claim per claim version.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy.demo.driver import Endpoints, Scenario
from shared.crypto import keyring_path, load_or_create_keyring_file
from tests.chaos.faults import FAULTS, start_together
from tests.chaos.observer import PipelineObserver
from tests.chaos.rounds import Options, RoundPlan, RoundResult, settle, wind_down
from tests.chaos.verdict import dead_letters, judge
from tests.chaos.workload import Stream, chaos_data
from tests.e2e.balancer import Balancer
from tests.e2e.claim_chains import assert_one_claim_per_version
from tests.e2e.conftest import SERVICES, Services
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

ENCOUNTERS = 30
REPLICAS = 2


def _instances(service: str) -> list[str]:
    return [service] + [f"{service}-{n}" for n in range(2, REPLICAS + 1)]


@dataclass(frozen=True)
class Work:
    """What one instance's `/metrics` says it did (all zero while it is down)."""

    consumed: float = 0.0  # events its consumers handled
    published: float = 0.0  # outbox events its relay published
    groups: frozenset[tuple[str, str]] = frozenset()  # (topic, consumer group) it runs

    @classmethod
    def of(cls, port: int) -> Work:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return cls()
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
        return cls(
            sum(s.value for s in samples if s.name == "chartflow_events_consumed_total"),
            sum(s.value for s in samples if s.name == "chartflow_outbox_published_total"),
            frozenset(
                (s.labels["topic"], s.labels["group"])
                for s in samples
                if s.name == "chartflow_consumer_lag"
            ),
        )


def _work(services: Services) -> dict[str, Work]:
    return {
        name: Work.of(services.port_of(name))
        for service in SERVICES
        for name in _instances(service)
    }


def _shared_groups(work: dict[str, Work]) -> bool:
    """Each service's instances run the same consumer groups (so Kafka splits partitions)."""
    return all(
        len({work[name].groups for name in _instances(service)}) == 1 and work[service].groups
        for service in SERVICES
    )


def _victims(work: dict[str, Work]) -> list[str]:
    """One instance per service: the one whose relay published (the leader), else the last."""
    return [
        max(reversed(_instances(service)), key=lambda name: work[name].published)
        for service in SERVICES
    ]


async def _until_every_instance_worked(
    services: Services, observer: PipelineObserver, seconds: float
) -> dict[str, Work]:
    """Wait until every instance has handled events in its service's shared consumer groups
    and some claims are out; each instance's work then."""
    deadline = time.monotonic() + seconds
    while True:
        work = await asyncio.to_thread(_work, services)
        worked = all(w.consumed > 0 for w in work.values())
        if worked and _shared_groups(work) and observer.past["billed"]:
            return work
        assert time.monotonic() < deadline, f"work per instance: {work}"
        await asyncio.sleep(0.5)


async def test_two_instances_of_each_service_one_killed_mid_stream_one_claim_per_version(
    stack: Stack, tmp_path: Path
) -> None:
    if not stack.database_url:
        pytest.skip("replicas share their service's database: needs PostgreSQL (DATABASE_URL)")
    load_or_create_keyring_file(keyring_path(tmp_path))  # before the instances start together
    services = Services(stack, tmp_path, prefix="replicas")
    ledger = tmp_path / "payer-ledger.jsonl"
    services.env["PAYER_SIM_LEDGER"] = str(ledger)
    options = Options(encounters=ENCOUNTERS, rate=1.0, settle_timeout=75.0)
    services.env["CLAIMS_BATCH_LEASE_SECONDS"] = str(options.claims_lease)
    await stack.provision(services.prefix)
    observer = PipelineObserver(stack, services.prefix)
    stream: Stream | None = None
    try:
        names = [name for service in SERVICES for name in _instances(service)]
        began = time.monotonic()
        await asyncio.to_thread(start_together, services, names)
        up = time.monotonic() - began
        balancer = Balancer(
            {services.ports[s]: [services.port_of(n) for n in _instances(s)] for s in SERVICES}
        )
        scenario = Scenario(
            Endpoints.local(services.ports, services.admin_token),
            data=chaos_data(ENCOUNTERS, "REPLICA"),
            client=httpx.Client(timeout=30, transport=balancer),
        )
        await asyncio.to_thread(scenario.seed)
        observer.start()
        stream = Stream(scenario, options.rate, options.settle_timeout, transport=balancer)
        stream.start()

        work = await _until_every_instance_worked(services, observer, seconds=60)
        at_kill = {"accepted": len(stream.accepted), **observer.snapshot()}
        victims = _victims(work)
        result = RoundResult(RoundPlan(1, FAULTS["all-services"], 0, 0.0), tmp_path)
        result.killed_at = time.monotonic()
        for victim in victims:
            services.stop(victim, kill=True)  # SIGKILL; it stays down
        await settle(options, stream, observer, scenario, result)
        stream.stop()
        verdict = await asyncio.to_thread(
            judge, scenario, stream.pushed, stream.accepted, observer, ledger
        )
        verdict.dead_lettered = len(await dead_letters(stack, services.prefix))
        views = {
            external_id: await asyncio.to_thread(scenario.encounter, answer["id"])
            for external_id, answer in stream.accepted.items()
        }
        report = (
            f"services up in {up:.0f} s; killed {victims} with {at_kill}, settled "
            f"{result.settle_seconds} s after; work before the kill "
            f"{ {n: (w.consumed, w.published) for n, w in work.items()} }; {verdict}"
        )
        print(report)
        assert_one_claim_per_version(scenario, views)  # while the survivors still answer
    finally:
        await wind_down(stream, observer, services, stack)

    assert at_kill["final"] < ENCOUNTERS, report  # mid-stream: work was left for the survivors
    assert verdict.accepted == ENCOUNTERS, report
    assert verdict.passed(ENCOUNTERS), report  # one claim each, none lost, stuck, billed twice
    assert verdict.dead_lettered == 0, report
    for service in ("intake", "coding"):  # the hospital's and the coder's requests: both
        assert all(balancer.served[services.port_of(n)] for n in _instances(service)), report
