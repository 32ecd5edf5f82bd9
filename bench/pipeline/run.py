"""One benchmark run: seed a fresh hospital, measure the ceilings, then the platform."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace

import httpx
from temporalio.client import Client

from bench.pipeline import history_shape, temporal_ceiling
from bench.pipeline.ceilings import bare_server, post_ceiling
from bench.pipeline.cleanup import terminate_workflows
from bench.pipeline.intake_only import measure_intake
from bench.pipeline.journey import Journey, accepted_to_worklist, claims_step, stage_table
from bench.pipeline.pipeline import Hospital, PipelineRun
from bench.pipeline.platform import Platform
from bench.pipeline.procs import cpu_during, stack_usage
from bench.pipeline.report import (
    ACCEPTED_TO_WORKLIST,
    CODED_TO_BUILT,
    Ceilings,
    Report,
    end_to_end_check,
    intake_check,
    worklist_check,
)
from bench.pipeline.scenario import bench_data, encounter
from bench.pipeline.x12_ceiling import measure as measure_pyx12
from deploy.demo.driver import Scenario
from shared.settings import ChartflowSettings
from shared.temporal import connect


@dataclass(frozen=True)
class Options:
    encounters: int
    concurrency: int
    rate: str | None  # enc/s, or "<fraction>x" of the Temporal ceiling
    intake_only: bool
    duration: float
    coders: int
    poll: float
    timeout: float
    ceiling_workflows: int


def arrival_rate(rate: str | None, temporal_ceiling: float) -> float | None:
    """``--rate``: "12" is 12 enc/s; "0.5x" is half the Temporal ceiling of this run."""
    if rate is None:
        return None
    text = rate.strip().lower()
    value = float(text.removesuffix("x"))
    per_second = value * temporal_ceiling if text.endswith("x") else value
    if not per_second > 0:
        raise ValueError(f"--rate must be above zero, got {rate!r}")
    return per_second


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def seed(platform: Platform) -> Hospital:
    run_id = uuid.uuid4().hex[:8]
    data = bench_data(run_id)
    scenario = Scenario(platform.endpoints, data=data)
    scenario.seed()
    coder_key = next(iter(scenario.coder_keys.values()))
    return Hospital(platform.endpoints, data, run_id, scenario.hospital_key, coder_key)


async def http_ceilings(platform: Platform, hospital: Hospital, o: Options) -> Ceilings:
    body = encounter(hospital.data, hospital.run_id, 0)
    with bare_server(platform.ceiling_database_url()) as bare:
        generator = await post_ceiling(bare, "/noop", body, o.concurrency, o.duration)
        insert = await post_ceiling(bare, "/rows", body, o.concurrency, o.duration)
    return Ceilings(generator=generator, bare_insert=insert.figures)


async def claim_files(platform: Platform, journeys: list[Journey], concurrency: int) -> list[str]:
    """The 837 of every claim the run built, as the claims service stored it."""
    e = platform.endpoints
    headers = {"Authorization": f"Bearer {e.admin_token}"}
    ids = [j.claim_id for j in journeys if j.claim_id and j.built]
    async with httpx.AsyncClient(timeout=60) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(claim_id: str) -> str:
            async with gate:
                answer = await client.get(f"{e.claims}/v1/claims/{claim_id}/x12", headers=headers)
                answer.raise_for_status()
                return answer.text

        return list(await asyncio.gather(*(one(i) for i in ids)))


class Window:
    """The stack's CPU use from now until ``close``, and its memory then."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        # A PostgreSQL left running (by `make test`) is not the stack's while services use SQLite.
        self.skip = () if platform.database_url else ("postgres",)
        self.before, self.t0 = stack_usage(platform.local, self.skip), time.time()

    def close(self, report: Report) -> None:
        after = stack_usage(self.platform.local, self.skip)
        report.cpu_window = time.time() - self.t0
        report.usage = after if self.platform.local else None
        report.cpu = cpu_during(self.before, after)


async def intake_alone(
    platform: Platform, hospital: Hospital, ceilings: Ceilings, o: Options, report: Report
) -> int:
    """Intake's maximum and its latency at 80% of it; returns the encounters accepted."""
    window = Window(platform)
    report.intake = await measure_intake(hospital, o.concurrency, o.duration)
    window.close(report)
    report.checks = [
        intake_check(report.intake, ceilings.bare_insert),
        worklist_check(None, None, None),
        end_to_end_check(None, 0, None, False),
    ]
    return report.intake.accepted


async def whole_pipeline(
    platform: Platform, hospital: Hospital, client: Client, o: Options, report: Report
) -> int:
    """The Temporal ceiling, then every encounter to its payment, then pyx12 on its claims."""
    queue = f"bench-{hospital.run_id}"
    worker = temporal_ceiling.start_worker(platform.temporal_address, queue)
    try:
        temporal = await temporal_ceiling.measure(client, queue, o.ceiling_workflows, o.concurrency)
    finally:
        worker.terminate()
        worker.wait()
    arrivals = arrival_rate(o.rate, temporal.completed.rate)
    run = PipelineRun(hospital, o.encounters, o.concurrency, arrivals, o.coders, o.poll)
    window = Window(platform)
    finished = await run.run(o.timeout)
    window.close(report)
    journeys = run.journeys
    report.total, report.stages = len(journeys), stage_table(journeys)
    worklist = accepted_to_worklist(journeys)
    report.steps = {ACCEPTED_TO_WORKLIST: worklist, CODED_TO_BUILT: claims_step(journeys)}
    texts = await claim_files(platform, journeys, o.concurrency)
    report.ceilings = replace(
        report.ceilings, temporal=temporal, pyx12=measure_pyx12(texts) if texts else None
    )
    report.checks = [
        intake_check(None, None),
        worklist_check(worklist if arrivals else None, arrivals, temporal),
        end_to_end_check(report.stages["paid"], len(journeys), temporal, arrivals is not None),
    ]
    ours = await history_shape.shape(
        client,
        await history_shape.completed_ids(
            client,
            f'HospitalId = "{hospital.data["hospital"]["id"]}" AND ExecutionStatus = "Completed"',
            limit=20,
        ),
    )
    trivial = await history_shape.shape(client, [f"bench-ceiling/{queue}/0"])
    outcomes = Counter(j.outcome or "unfinished" for j in journeys)
    report.notes = [
        f"when: the POST, its 202, the code submission's 202 and the first worklist poll (every "
        f"{o.poll} s) showing the task, by this process; claim built and paid, the claims "
        "service's own transition times (same clock)",
        "claims: " + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())),
        "the benchmark's own requests besides the load: "
        + ", ".join(f"{n} {what}" for what, n in run.requests.items()),
        *(f"{n} × {what}" for what, n in run.errors.items()),
        *(
            s.line(label)
            for label, s in (("Temporal, ours", ours), ("Temporal, trivial", trivial))
            if s
        ),
    ]
    if arrivals is not None:
        report.notes.append(
            f"arrivals paced at {arrivals:.1f} enc/s: no stage's rate can exceed it, so the "
            "ratios say little here; the latencies are what this mode measures"
        )
    if not finished:
        report.notes.append(f"not every encounter finished within --timeout {o.timeout:.0f} s")
    return sum(1 for j in journeys if j.accepted)


async def benchmark(platform: Platform, o: Options, title: str) -> Report:
    hospital = seed(platform)
    hospital_id = hospital.data["hospital"]["id"]
    started_load = _load_average()
    report = Report(title=title, concurrency=o.concurrency)
    report.ceilings = await http_ceilings(platform, hospital, o)
    client = await connect(ChartflowSettings(temporal_address=platform.temporal_address))
    if o.intake_only:
        accepted = await intake_alone(platform, hospital, report.ceilings, o, report)
    else:
        accepted = await whole_pipeline(platform, hospital, client, o, report)
    seen, terminated = await terminate_workflows(client, hospital_id, accepted, o.timeout)
    if terminated:
        report.notes = [
            *report.notes,
            f"{terminated} of the run's {seen} workflows were still running: terminated",
        ]
    report.context = [
        f"platform: {platform.endpoints.intake} … on {platform.database}, "
        f"Temporal {platform.temporal_address}; hospital {hospital_id} (fresh)",
        f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) {started_load} at the "
        f"start, {_load_average()} at the end",
        *report.context,
    ]
    return report
