"""Queue depth per pool on `/metrics`: open tasks against capacity, and encounters waiting.

`pool_queue_depths` is the one place that says how deep each pool's queue is: each pool's
backlog (`backlog_db.pool_backlogs`: open tasks, capacity, encounters waiting in it), and under
`none` the encounters no pool may take at all (never assigned, in no pool's backlog).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from services.assignment.backlog_db import pool_backlogs
from services.assignment.db import BacklogEntry, RoutedEncounter
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
    """Each pool's open tasks, capacity and backlog, and the encounters no pool may take."""
    in_a_backlog = select(BacklogEntry.encounter_key).distinct()
    without_pool = session.exec(
        select(func.count())
        .select_from(RoutedEncounter)
        .where(
            RoutedEncounter.status == "received",
            col(RoutedEncounter.pool_id).is_(None),
            col(RoutedEncounter.encounter_key).not_in(in_a_backlog),
        )
    ).one()
    depths = [
        PoolQueueDepth(b.pool_id, b.open_tasks + b.offered, b.capacity, b.waiting)
        for b in pool_backlogs(session)
    ]
    return [*depths, PoolQueueDepth(NO_POOL, 0, None, int(without_pool))]


def record_queue_depth(session: Session) -> None:
    """A `Runtime.scrape_hooks` entry: the pool gauges as `pool_queue_depths` reads them."""
    for gauge in (POOL_OPEN_TASKS, POOL_CAPACITY, POOL_WAITING):
        gauge.clear()
    for depth in pool_queue_depths(session):
        POOL_WAITING.labels(pool=depth.pool).set(depth.waiting)
        if depth.capacity is not None:
            POOL_OPEN_TASKS.labels(pool=depth.pool).set(depth.open_tasks)
            POOL_CAPACITY.labels(pool=depth.pool).set(depth.capacity)
