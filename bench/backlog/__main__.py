"""python -m bench.backlog [--encounters N] [--capacity C] [--pace S] ...

A burst of N encounters from several hospitals (different priorities and discharge ages) against
vendor pools of capacity C, on the real Temporal server and database of this checkout's stack
(`stack.py up --postgres`), with assignment's worker and handlers in this process. Simulated
coders, one per slot, each take `--pace` seconds per encounter and submit through assignment's
`coding.events` handler (the path the consumer takes; Kafka carries the coding tasks out).
Prints the drain curve, inversions of the priority rule, the longest wait per hospital, and the
delay between a slot freeing (a coder's submission) and the pool's next assignment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, func, select

from bench.intake.namespace import bench_namespace
from services.assignment import backlog
from services.assignment.db import TABLES, BacklogEntry, HospitalPriority, PoolTask, VendorPool, utc
from services.assignment.domain.backlog import Waiting, inversions
from services.assignment.domain.models import PoolAssignment
from services.assignment.handlers import AssignmentHandlers
from services.assignment.settings import AssignmentSettings
from services.assignment.worker import build_worker
from shared import migrations
from shared.db import Database
from shared.events.codes import DiagnosisCode
from shared.events.coding import CodingSubmitted
from shared.events.envelope import Envelope
from shared.kafka import Publisher
from shared.kafka_security import kafka_auth
from shared.temporal import connect
from tests.integration.conftest import received_from

TODAY = date(2026, 9, 14)
HOSPITALS = {"mercy": 1, "st-luke": 1, "county": 2}  # hospital → priority (its weight)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.backlog", description=__doc__)
    p.add_argument("--encounters", type=int, default=10_000)
    p.add_argument("--pools", type=int, default=2, help="pools, each taking every hospital")
    p.add_argument("--capacity", type=int, default=50, help="each pool's capacity")
    p.add_argument(
        "--pace",
        type=float,
        default=10.0,
        help="seconds a coder takes per encounter (100 coders at 10 s: 10 encounters/s, within "
        "what assignment's one worker keeps up with on 2 cores; 2 s asks 50/s of it)",
    )
    p.add_argument("--interval", type=float, default=10.0, help="seconds per drain-curve row")
    p.add_argument("--start-rate", type=int, default=64, help="workflow starts in flight")
    p.add_argument("--dump", type=Path, help="write each waiting encounter and its offer (CSV)")
    return p


def encounter(prefix: str, i: int) -> Envelope:
    """The i-th encounter: its hospital (mercy bursts half of them) and DNFB age (0-9 days)."""
    hospital = "mercy" if i % 2 == 0 else ("st-luke" if i % 4 == 1 else "county")
    return received_from(prefix, hospital, f"b{i}", TODAY - timedelta(days=(i * 7) % 10))


async def run(args: argparse.Namespace, prefix: str) -> None:
    settings = AssignmentSettings(chartflow_namespace_prefix=prefix)
    db = Database(settings.service_database_url(), TABLES)
    migrations.upgrade(db, "assignment")
    pools = [f"pool-{n}" for n in range(args.pools)]

    def setup(session: object) -> None:
        for pool_id in pools:
            session.add(  # type: ignore[attr-defined]
                VendorPool(
                    id=pool_id,
                    vendor_id="northstar",
                    name=pool_id,
                    credentials="CPC",
                    encounter_classes="professional",
                    capacity=args.capacity,
                    sla_seconds=86_400,
                )
            )
        for hospital, priority in HOSPITALS.items():
            session.add(HospitalPriority(hospital_id=hospital, priority=priority))  # type: ignore[attr-defined]

    await db.run(setup)
    client = await connect(settings)
    publisher = Publisher(settings.kafka_bootstrap_servers, **kafka_auth(settings))
    await publisher.start()
    handlers = AssignmentHandlers(db, client, settings)
    assigned_at: dict[str, float] = {}  # task id → when seen
    task_pool: dict[str, str] = {}
    task_key: dict[str, str] = {}
    submitted: dict[str, list[float]] = defaultdict(list)  # pool → submission times
    assigned: dict[str, list[float]] = defaultdict(list)  # pool → assignment times
    seen_waiting: dict[str, Waiting] = {}
    offered_at: dict[str, datetime] = {}  # encounter key → when its pool offered it a slot
    offer_pool: dict[str, str] = {}
    depth: list[tuple[float, int]] = []
    done = asyncio.Event()
    t0 = time.monotonic()
    wall0 = datetime.now(UTC)
    coders: set[asyncio.Task[None]] = set()
    offer_slots = backlog.offer_slots

    def offer_and_record(
        session: Session, pool_id: str, resend_after: timedelta = backlog.RESEND_OFFER
    ) -> list[tuple[str, PoolAssignment]]:
        """The dispatcher's own step, with the time of each offer noted for the report."""
        offers = offer_slots(session, pool_id, resend_after)
        at = datetime.now(UTC)
        for key, _ in offers:
            offered_at.setdefault(key, at)
            offer_pool.setdefault(key, pool_id)
        return offers

    backlog.offer_slots = offer_and_record
    dispatch = backlog.Backlog.dispatch
    dispatch_ms: list[float] = []  # a dispatch called (capacity just freed) → its offers made

    async def timed_dispatch(
        self: backlog.Backlog,
        pool_ids: Iterable[str],
        resend_after: timedelta = backlog.RESEND_OFFER,
    ) -> None:
        called, before = datetime.now(UTC), set(offered_at)
        await dispatch(self, pool_ids, resend_after)
        dispatch_ms.extend(
            (at - called).total_seconds() * 1000
            for key, at in offered_at.items()
            if key not in before and at >= called
        )

    backlog.Backlog.dispatch = timed_dispatch  # type: ignore[method-assign]

    async def code(task_id: str, key: str, pool_id: str) -> None:
        await asyncio.sleep(args.pace)
        submitted[pool_id].append(time.monotonic())
        event = CodingSubmitted(
            task_id=task_id,
            encounter_key=key,
            coder_id="coder-ava",
            diagnoses=[DiagnosisCode(code="E11.9")],
            procedures=[],
        )
        await handlers.on_coding_submitted(
            Envelope.wrap(event, source="bench", subject=key, tenant="mercy")
        )

    def queue_depth(session: Session) -> int:
        distinct = func.count(func.distinct(BacklogEntry.encounter_key))
        waiting = col(BacklogEntry.offered_at).is_(None)
        return int(session.exec(select(distinct).where(waiting)).one())

    async def watch() -> None:
        """Coders learn of their tasks (every 50 ms); the backlog is sampled every 0.5 s."""
        last_sample, since = 0.0, wall0 - timedelta(seconds=1)
        while not done.is_set():
            tasks = await db.run(lambda s: list(s.exec(select(PoolTask).where(PoolTask.open))))
            now = time.monotonic()
            for task in tasks:
                if task.task_id not in assigned_at:
                    assigned_at[task.task_id] = now
                    task_pool[task.task_id] = task.pool_id
                    task_key[task.task_id] = task.encounter_key
                    assigned[task.pool_id].append(now)
                    coder = asyncio.create_task(
                        code(task.task_id, task.encounter_key, task.pool_id)
                    )
                    coders.add(coder)
                    coder.add_done_callback(coders.discard)
            if now - last_sample >= 0.5:
                last_sample = now
                depth.append((now - t0, await db.run(queue_depth)))
                fresh = select(BacklogEntry).where(col(BacklogEntry.enqueued_at) >= since)
                rows = await db.run(lambda s, q=fresh: list(s.exec(q)))  # type: ignore[misc]
                for r in rows:
                    seen_waiting.setdefault(r.encounter_key, r.waiting(HOSPITALS[r.hospital_id]))
                    since = max(since, utc(r.enqueued_at) - timedelta(seconds=2))
            if len(assigned_at) >= args.encounters and not coders:
                done.set()
            await asyncio.sleep(0.05)

    started = 0
    async with build_worker(client, db, publisher, settings):
        watcher = asyncio.create_task(watch())
        gate = asyncio.Semaphore(args.start_rate)

        async def start(i: int) -> None:
            nonlocal started
            async with gate:
                await handlers.on_encounter_received(encounter(prefix, i))
                started += 1

        await asyncio.gather(*(start(i) for i in range(args.encounters)))
        burst_s = time.monotonic() - t0
        await watcher
        total_s = time.monotonic() - t0
    await publisher.stop()

    # Report.
    print(
        f"# bench.backlog: {args.encounters} encounters, {args.pools} pools × capacity "
        f"{args.capacity}, {args.pools * args.capacity} coders at {args.pace} s each"
    )
    print(
        "# path: workflows started by assignment's encounters.received handler; coders submit "
        "through its coding.events handler (no Kafka between them); real Temporal + "
        f"{'PostgreSQL' if db.url.startswith('postgresql') else 'SQLite'}"
    )
    ideal = args.encounters * args.pace / (args.pools * args.capacity)
    print(
        f"burst started in {burst_s:.1f} s; drained in {total_s:.1f} s "
        f"(coders' pace alone: {ideal:.1f} s)"
    )
    print(f"\n{'t (s)':>7} {'assigned':>9} {'completed':>10} {'queue depth':>12}")
    all_assigned = sorted(t - t0 for ts in assigned.values() for t in ts)
    all_done = sorted(t - t0 for ts in submitted.values() for t in ts)
    edge = 0.0
    while edge < total_s + args.interval:
        q = [d for at, d in depth if at <= edge]
        print(
            f"{edge:7.0f} {sum(t <= edge for t in all_assigned):9d} "
            f"{sum(t <= edge for t in all_done):10d} {q[-1] if q else 0:12d}"
        )
        edge += args.interval
    peak_at, peak = max(depth, key=lambda sample: sample[1], default=(0.0, 0))
    if peak:  # from the moment (about) every encounter had joined: the coders' pace, or ours
        after = [t for t in all_assigned if t > peak_at]
        if after and max(after) > peak_at:
            pace = args.pools * args.capacity / args.pace
            print(
                f"\nfrom the deepest queue ({peak_at:.0f} s) to the end: {len(after)} assigned at "
                f"{len(after) / (max(after) - peak_at):.1f}/s (the coders' pace: {pace:.1f}/s)"
            )
    # Each encounter that waited, with when its pool offered it a slot (the dispatcher's order).
    pairs = [(seen_waiting[k], at) for k, at in offered_at.items() if k in seen_waiting]
    if args.dump:
        lines = ["key,hospital,dnfb_on,sla_due_at,enqueued_at,offered_at,pool"]
        lines += [
            f"{w.encounter_key},{w.hospital_id},{w.dnfb_on},{w.sla_due_at.isoformat()},"
            f"{w.enqueued_at.isoformat()},{at.isoformat()},{offer_pool[w.encounter_key]}"
            for w, at in pairs
        ]
        args.dump.write_text("\n".join(lines) + "\n")
    print(
        f"\nwaited in a backlog: {len(pairs)}; inversions of the priority rule (by the time each "
        f"was offered its slot): {inversions(pairs)}"
    )
    waits: dict[str, list[float]] = defaultdict(list)
    for w, at in pairs:
        waits[w.hospital_id].append((at - utc(w.enqueued_at)).total_seconds())
    for hospital, ws in sorted(waits.items()):
        print(
            f"  {hospital:8} priority {HOSPITALS[hospital]}: {len(ws):6d} waited, "
            f"max wait for a slot {max(ws):7.1f} s, p50 {statistics.median(ws):7.1f} s"
        )
    # A slot freed while encounters waited → the pool's next offer (greedy, in time order).
    busy = [at for at, d in depth if d > 0]
    delays: list[float] = []
    for pool_id in pools:
        offers = sorted(
            t0 + (at - wall0).total_seconds()
            for k, at in offered_at.items()
            if offer_pool[k] == pool_id
        )
        frees = [f for f in sorted(submitted[pool_id]) if any(abs(f - t0 - b) < 0.5 for b in busy)]
        i = 0
        for f in frees:
            while i < len(offers) and offers[i] < f:
                i += 1
            if i < len(offers):
                delays.append((offers[i] - f) * 1000)
                i += 1
    if len(dispatch_ms) > 1:
        qs = statistics.quantiles(dispatch_ms, n=100)
        print(
            f"dispatch called (a task closed, capacity raised, an encounter joined) → its "
            f"offers made: p50 {qs[49]:.0f} ms, p99 {qs[98]:.0f} ms, n={len(dispatch_ms)}"
        )
    if len(delays) > 1:
        qs = statistics.quantiles(delays, n=100)
        print(
            f"slot freed (a coder's submission, while encounters waited) → the pool's next "
            f"offer: p50 {qs[49]:.0f} ms, p99 {qs[98]:.0f} ms, n={len(delays)} (it includes "
            "the workflow's release step that closes the task; the old retry: up to 300,000 ms)"
        )
    db.close()


def main() -> None:
    args = parser().parse_args()
    prefix = f"bb{uuid.uuid4().hex[:8]}."
    with bench_namespace(prefix) as env:
        os.environ.update(env)
        os.environ["KAFKA_CREDENTIALS_FILE"] = str(
            Path(env["KAFKA_CREDENTIALS_FILE"]).with_name("assignment.properties")
        )
        asyncio.run(run(args, prefix))


if __name__ == "__main__":
    main()
