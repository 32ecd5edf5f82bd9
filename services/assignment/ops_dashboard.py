"""The ops page's use case: its figures from assignment's tables and the workflows' visibility,
each with the Temporal UI list behind it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, func, select
from temporalio.client import Client
from temporalio.service import RPCError

from services.assignment.db import AssignmentRepository, EscalationEntry
from services.assignment.domain.ops_figures import (
    Dnfb,
    Interval,
    Milestones,
    PoolBacklog,
    Turnaround,
    dnfb,
    interval_for,
    pool_backlog,
    throughput,
    turnaround,
)
from services.assignment.domain.ops_links import (
    list_url,
    ops_queries,
    scoped,
    workflow_url,
)
from services.assignment.domain.routing import PoolProfile, eligible_pools
from services.assignment.milestones_db import EncounterMilestone, milestones
from services.assignment.settings import AssignmentSettings
from services.assignment.workflows import workflow_id
from shared.db import Database
from shared.settings import ChartflowSettings

INTERVALS = 24
WAITING_LISTED = 10_000


class Breaches(BaseModel):
    past_sla: int | None  # running, past its SLA, clock running (None: Temporal did not answer)
    escalations_open: int
    escalations_in_window: dict[str, int]  # by kind


class Dashboard(BaseModel):
    generated_at: datetime
    window_minutes: int
    interval_seconds: int
    dnfb: Dnfb
    waiting: int | None  # encounters no pool could take yet (None: Temporal did not answer)
    pools: list[PoolBacklog]
    turnaround: list[Turnaround]
    throughput: list[Interval]
    breaches: Breaches
    links: dict[str, str]  # figure → its Temporal UI list; `oldest:<key>` → the workflow


async def waiting_by_pool(
    client: Client, db: Database, pools: list[PoolProfile], prefix: str
) -> tuple[int, dict[str, int]]:
    """Encounters waiting for a pool, in all and per pool that could take each (its class,
    hospital and credential): today the running workflows whose CodingStatus is
    `waiting_for_pool`, by visibility. The one place to rewire onto a per-pool queue."""
    query = scoped(ops_queries(datetime.now(UTC), [])["waiting"], prefix)
    start = workflow_id("", prefix)
    keys = [
        wf.id.removeprefix(start) async for wf in client.list_workflows(query, limit=WAITING_LISTED)
    ]

    def classes(session: Session) -> list[tuple[str, str]]:
        rows = session.exec(
            select(EncounterMilestone.encounter_class, EncounterMilestone.hospital_id).where(
                col(EncounterMilestone.encounter_key).in_(keys)
            )
        )
        return [(c, h) for c, h in rows]

    per_pool: Counter[str] = Counter()
    for encounter_class, hospital_id in await db.run(classes) if keys else []:
        for pool in eligible_pools(pools, encounter_class, hospital_id):
            per_pool[pool.pool_id] += 1
    return len(keys), dict(per_pool)


def _escalations(session: Session, since: datetime) -> tuple[int, dict[str, int]]:
    open_count = session.exec(
        select(func.count()).where(col(EscalationEntry.acknowledged_at).is_(None))
    ).one()
    by_kind = session.exec(
        select(EscalationEntry.kind, func.count())
        .where(col(EscalationEntry.created_at) >= since)
        .group_by(col(EscalationEntry.kind))
    ).all()
    return int(open_count), {kind: int(n) for kind, n in by_kind}


class OpsDashboard:
    def __init__(self, db: Database, client: Client, settings: ChartflowSettings) -> None:
        ops = settings if isinstance(settings, AssignmentSettings) else AssignmentSettings()
        self.db = db
        self.client = client
        self.prefix = settings.chartflow_namespace_prefix
        self.namespace = settings.temporal_namespace
        self.ui = ops.temporal_ui()
        self.goal_days = ops.ops_dnfb_goal_days

    async def figures(self, window: timedelta, now: datetime | None = None) -> Dashboard:
        now = now or datetime.now(UTC)
        since = now - window
        interval = interval_for(window, INTERVALS)
        intervals = max(1, round(window / interval))

        def read(
            session: Session,
        ) -> tuple[list[Milestones], list[PoolProfile], int, dict[str, int]]:
            return (
                milestones(session, now - interval * intervals),
                AssignmentRepository(session).pool_profiles(),
                *_escalations(session, since),
            )

        encounters, pools, escalations_open, by_kind = await self.db.run(read)
        try:
            waiting, waiting_per_pool = await waiting_by_pool(
                self.client, self.db, pools, self.prefix
            )
        except RPCError:
            waiting, waiting_per_pool = None, {}
        queries = ops_queries(now, [p.pool_id for p in pools])
        figure = dnfb(encounters, now, self.goal_days)
        links = {name: self._list(query) for name, query in queries.items()}
        for aged in figure.oldest:
            links[f"oldest:{aged.encounter_key}"] = workflow_url(
                self.ui, self.namespace, workflow_id(aged.encounter_key, self.prefix)
            )
        return Dashboard(
            generated_at=now,
            window_minutes=int(window.total_seconds() // 60),
            interval_seconds=int(interval.total_seconds()),
            dnfb=figure,
            waiting=waiting,
            pools=pool_backlog(
                {p.pool_id: p.capacity for p in pools},
                {p.pool_id: p.open_tasks for p in pools},
                waiting_per_pool,
            ),
            turnaround=turnaround(encounters, since),
            throughput=throughput(encounters, now, interval, intervals),
            breaches=Breaches(
                past_sla=await self._count(queries["past_sla"]),
                escalations_open=escalations_open,
                escalations_in_window=by_kind,
            ),
            links=links,
        )

    def _list(self, query: str) -> str:
        return list_url(self.ui, self.namespace, scoped(query, self.prefix))

    async def _count(self, query: str) -> int | None:
        try:
            return (await self.client.count_workflows(scoped(query, self.prefix))).count
        except RPCError:
            return None
