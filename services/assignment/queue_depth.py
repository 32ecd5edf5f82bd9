"""Queue depth per pool on `/metrics`: open tasks against capacity, and encounters waiting.

`pool_queue_depths` is the one place that says how deep each pool's queue is; today it reads
the open `PoolTask` rows and the encounters still `received` (never assigned: their workflow
waits for a pool with capacity, and has no pool yet). A per-pool backlog replaces its body.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from services.assignment.db import PoolTask, RoutedEncounter, VendorPool
from shared.metrics import POOL_CAPACITY, POOL_OPEN_TASKS, POOL_WAITING

#: The `pool` label of encounters that wait without a pool.
NO_POOL = "none"


@dataclass(frozen=True)
class PoolQueueDepth:
    pool: str
    open_tasks: int
    capacity: int | None  # None: waiting encounters not routed to a pool
    waiting: int


def pool_queue_depths(session: Session) -> list[PoolQueueDepth]:
    """Each pool's open tasks and capacity, and the encounters waiting (today: under `none`)."""
    open_tasks = dict(
        session.exec(
            select(PoolTask.pool_id, func.count())
            .where(PoolTask.open)
            .group_by(col(PoolTask.pool_id))
        ).all()
    )
    waiting = session.exec(
        select(func.count())
        .select_from(RoutedEncounter)
        .where(RoutedEncounter.status == "received", col(RoutedEncounter.pool_id).is_(None))
    ).one()
    depths = [
        PoolQueueDepth(pool.id, int(open_tasks.get(pool.id, 0)), pool.capacity, 0)
        for pool in session.exec(select(VendorPool).order_by(col(VendorPool.id)))
    ]
    return [*depths, PoolQueueDepth(NO_POOL, 0, None, int(waiting))]


def record_queue_depth(session: Session) -> None:
    """A `Runtime.scrape_hooks` entry: the pool gauges as `pool_queue_depths` reads them."""
    for gauge in (POOL_OPEN_TASKS, POOL_CAPACITY, POOL_WAITING):
        gauge.clear()
    for depth in pool_queue_depths(session):
        POOL_WAITING.labels(pool=depth.pool).set(depth.waiting)
        if depth.capacity is not None:
            POOL_OPEN_TASKS.labels(pool=depth.pool).set(depth.open_tasks)
            POOL_CAPACITY.labels(pool=depth.pool).set(depth.capacity)
