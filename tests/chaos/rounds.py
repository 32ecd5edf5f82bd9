"""One chaos round: a fresh namespace, the four services, the stream, one fault, the verdict."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deploy.demo.driver import Endpoints, Scenario
from shared.crypto import keyring_path, load_or_create_keyring_file
from tests.chaos.faults import Fault, Injector, RunnerStack, start_together, stop_together
from tests.chaos.observer import PipelineObserver
from tests.chaos.verdict import Verdict, dead_letters, final_for_hospital, judge
from tests.chaos.workload import Stream, chaos_data
from tests.e2e.conftest import SERVICES, Services
from tests.stack import Stack

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    encounters: int = 1000
    rate: float = 5.0  # encounters pushed per second
    settle_timeout: float = 600.0  # after the last push, how long the round may take to settle
    # A crashed claims worker's batch is taken over once its lease runs out (production: 120 s).
    claims_lease: float = 15.0


@dataclass(frozen=True)
class RoundPlan:
    number: int
    fault: Fault
    kill_after: int  # encounters accepted before the kill
    down_for: float  # seconds between the kill and the restart

    @property
    def name(self) -> str:
        return f"round {self.number} {self.fault.name}"


def plan_rounds(faults: list[Fault], encounters: int, seed: int) -> list[RoundPlan]:
    """Each round's kill moment (between 20 % and 70 % of the stream) and down time, drawn
    from the seed and the fault's name: the same seed gives a fault the same plan, whichever
    other faults run with it."""
    low, high = max(1, encounters // 5), max(1, encounters * 7 // 10)
    plans = []
    for number, fault in enumerate(faults, start=1):
        rng = random.Random(f"{seed}:{fault.name}")
        plans.append(RoundPlan(number, fault, rng.randint(low, high), rng.uniform(0.5, 3.0)))
    return plans


@dataclass
class RoundResult:
    plan: RoundPlan
    var: Path
    verdict: Verdict | None = None
    at_kill: dict[str, int] = field(default_factory=dict)
    pids: list[int] = field(default_factory=list)
    restart_seconds: float | None = None
    settle_seconds: float | None = None  # from the kill to the last final claim status
    drain_seconds: float | None = None  # from the last push to the last final claim status
    push_errors: dict[str, int] = field(default_factory=dict)
    code_errors: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # the round could not run to its end (e.g. no restart)
    killed_at: float | None = None  # monotonic

    def passed(self, expected: int) -> bool:
        return self.error is None and self.verdict is not None and self.verdict.passed(expected)


async def run_round(
    plan: RoundPlan, options: Options, stack: Stack, runner: RunnerStack, var: Path, say: Say
) -> RoundResult:
    result = RoundResult(plan, var)
    var.mkdir(parents=True, exist_ok=True)
    load_or_create_keyring_file(keyring_path(var))  # before the services start side by side
    services = Services(stack, var, prefix="chaos")
    ledger = var / "payer-ledger.jsonl"
    services.env["PAYER_SIM_LEDGER"] = str(ledger)
    services.env["CLAIMS_BATCH_LEASE_SECONDS"] = str(options.claims_lease)
    if stack.database_url is None:
        services.env.pop("DATABASE_URL", None)
    await asyncio.to_thread(runner.ensure_up)
    await stack.provision(services.prefix)
    observer = PipelineObserver(stack, services.prefix)
    stream: Stream | None = None
    began = time.monotonic()
    try:
        await asyncio.to_thread(start_together, services, list(SERVICES))
        up = time.monotonic() - began
        say(f"{plan.name}: services up in {up:.1f} s, namespace {services.prefix}")
        data = chaos_data(options.encounters, "CHAOS")
        scenario = Scenario(Endpoints.local(services.ports, services.admin_token), data=data)
        await asyncio.to_thread(scenario.seed)
        observer.start()
        stream = Stream(scenario, options.rate, retry_for=options.settle_timeout)
        stream.start()
        await _fault(plan, stream, observer, Injector(services, runner), result, say)
        await settle(options, stream, observer, scenario, result)
        stream.stop()
        result.push_errors, result.code_errors = dict(stream.push_errors), dict(stream.code_errors)
        verdict = await asyncio.to_thread(
            judge, scenario, stream.pushed, stream.accepted, observer, ledger
        )
        verdict.dead_letters = await dead_letters(stack, services.prefix)
        verdict.dead_lettered = len(verdict.dead_letters)
        result.verdict = verdict
    except Exception as exc:  # a round that cannot finish is a failed row, not a crash
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        await wind_down(stream, observer, services, stack)
        load = os.getloadavg()[0]
        say(f"{plan.name}: took {time.monotonic() - began:.1f} s; load average {load:.2f}")
    return result


async def wind_down(
    stream: Stream | None, observer: PipelineObserver, services: Services, stack: Stack
) -> None:
    """The end of a round, however it ended: the load, the observer and the services stop,
    and the namespace's topics go."""
    if stream is not None:
        stream.stop()
    await observer.stop()
    await asyncio.to_thread(stop_together, services)
    await stack.remove(services.prefix)


async def _fault(
    plan: RoundPlan,
    stream: Stream,
    observer: PipelineObserver,
    injector: Injector,
    result: RoundResult,
    say: Say,
) -> None:
    """Wait for the kill moment, kill, keep the targets down a moment, start them again.

    The moment: `kill_after` encounters accepted (or all pushed) and the target at work (or,
    should it never get work, a minute after the last push: the verdict will say why)."""
    while (
        len(stream.accepted) < plan.kill_after and not stream.pushing_done.is_set()
    ) or not observer.past[plan.fault.busy_after]:
        if stream.pushing_done.is_set() and time.monotonic() > stream.last_push_at + 60:
            break
        await asyncio.sleep(0.01)
    result.at_kill = {"accepted": len(stream.accepted), **observer.snapshot()}
    killed_at = time.monotonic()
    result.pids = await asyncio.to_thread(injector.kill, plan.fault)
    result.killed_at = killed_at
    stages = ", ".join(f"{n} {stage}" for stage, n in result.at_kill.items())
    pids = ",".join(map(str, result.pids))
    say(f"{plan.name}: SIGKILL pid {pids} with {stages}")
    await asyncio.sleep(plan.down_for)
    await asyncio.to_thread(injector.restart, plan.fault)
    result.restart_seconds = time.monotonic() - killed_at
    say(f"{plan.name}: back after {result.restart_seconds:.1f} s")


async def settle(
    options: Options,
    stream: Stream,
    observer: PipelineObserver,
    scenario: Scenario,
    result: RoundResult,
) -> None:
    """Wait until every accepted encounter's claim is final for the hospital, or time is up."""
    push_deadline = time.monotonic() + options.encounters / options.rate + options.settle_timeout
    while not stream.pushing_done.is_set() and time.monotonic() < push_deadline:
        await asyncio.sleep(0.2)
    stream.stop_pushing()
    deadline = time.monotonic() + options.settle_timeout
    keys = {answer["encounter_key"] for answer in stream.accepted.values()}
    while not keys <= observer.final_at.keys() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    pending = dict(stream.accepted)
    while pending and time.monotonic() < deadline + 30:
        for external_id in await asyncio.to_thread(final_for_hospital, scenario, pending):
            del pending[external_id]
        if pending:
            await asyncio.sleep(1)
    if not pending and keys <= observer.final_at.keys():
        last_final = max((observer.final_at[k] for k in keys), default=stream.last_push_at)
        if result.killed_at is not None:
            result.settle_seconds = last_final - result.killed_at
        result.drain_seconds = max(0.0, last_final - stream.last_push_at)


async def run_rounds(
    plans: list[RoundPlan],
    options: Options,
    stack: Stack,
    runner: RunnerStack,
    var: Path,
    say: Say,
) -> list[RoundResult]:
    results = []
    for plan in plans:
        say(
            f"{plan.name}: {options.encounters} encounters at "
            f"{options.rate:g}/s; SIGKILL after {plan.kill_after} accepted, "
            f"down {plan.down_for:.1f} s"
        )
        result = await run_round(
            plan, options, stack, runner, var / f"{plan.number}-{plan.fault.name}", say
        )
        v = result.verdict
        summary = (
            f"{v.claims} claims, {v.duplicates} duplicates, {v.lost} lost, {v.stuck} stuck, "
            f"{v.dead_lettered} dead-lettered"
            if v is not None
            else result.error
        )
        say(f"{plan.name}: {summary}")
        results.append(result)
    return results
