"""Pools' backlogs (tables in `db`): the entries a pool's freed capacity can go to, its fair
clock, hospitals' priorities, and the backlog per pool that ops read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from services.assignment.db import (
    BacklogEntry,
    BacklogTurn,
    HospitalPriority,
    VendorPool,
    backlog_counts,
    open_task_counts,
    utc,
)
from services.assignment.domain.backlog import VIRTUAL, FairClock


@dataclass(frozen=True)
class PoolBacklog:
    """One pool's backlog against its capacity (what the ops page and metrics show)."""

    pool_id: str
    capacity: int
    open_tasks: int
    offered: int  # slots given to waiting encounters whose tasks are being published
    waiting: int
    oldest_waiting_since: datetime | None


def pool_backlogs(session: Session) -> list[PoolBacklog]:
    """Backlog per pool: waiting count, oldest wait, capacity, open tasks (and offered slots),
    by pool id."""
    opened, offered = open_task_counts(session), backlog_counts(session, offered=True)
    waiting = backlog_counts(session, offered=False)
    oldest = dict(
        session.exec(
            select(BacklogEntry.pool_id, func.min(BacklogEntry.enqueued_at))
            .where(col(BacklogEntry.offered_at).is_(None))
            .group_by(col(BacklogEntry.pool_id))
        ).all()
    )
    return [
        PoolBacklog(
            pool_id=pool.id,
            capacity=pool.capacity,
            open_tasks=opened.get(pool.id, 0),
            offered=offered.get(pool.id, 0),
            waiting=waiting.get(pool.id, 0),
            oldest_waiting_since=utc(oldest[pool.id]) if pool.id in oldest else None,
        )
        for pool in session.exec(select(VendorPool).order_by(col(VendorPool.id)))
    ]


class BacklogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def entries(self, encounter_key: str) -> list[BacklogEntry]:
        query = select(BacklogEntry).where(BacklogEntry.encounter_key == encounter_key)
        return list(self.session.exec(query))

    def offered(self, pool_id: str) -> list[BacklogEntry]:
        query = select(BacklogEntry).where(
            BacklogEntry.pool_id == pool_id, col(BacklogEntry.offered_at).is_not(None)
        )
        return list(self.session.exec(query))

    def priorities(self) -> dict[str, int]:
        return {h.hospital_id: h.priority for h in self.session.exec(select(HospitalPriority))}

    def heads(self, pool_id: str, per_hospital: int) -> list[BacklogEntry]:
        """The first `per_hospital` waiting entries of each (discharge day, hospital): all the
        rule can pick from for that many slots."""
        rank = (
            func.row_number()
            .over(
                partition_by=(col(BacklogEntry.dnfb_on), col(BacklogEntry.hospital_id)),
                order_by=(
                    col(BacklogEntry.sla_due_at),
                    col(BacklogEntry.enqueued_at),
                    col(BacklogEntry.encounter_key),
                ),
            )
            .label("rank")
        )
        ranked = (
            select(BacklogEntry, rank)
            .where(BacklogEntry.pool_id == pool_id, col(BacklogEntry.offered_at).is_(None))
            .subquery()
        )
        keys = select(ranked.c.encounter_key).where(ranked.c.rank <= per_hospital)
        query = select(BacklogEntry).where(
            BacklogEntry.pool_id == pool_id, col(BacklogEntry.encounter_key).in_(keys)
        )
        return list(self.session.exec(query))

    def clock(self, pool_id: str) -> FairClock:
        turns = self.session.exec(select(BacklogTurn).where(BacklogTurn.pool_id == pool_id))
        finish = {t.hospital_id: t.finish for t in turns}
        return FairClock(virtual=finish.pop(VIRTUAL, 0.0), finish=finish)

    def save_clock(self, pool_id: str, clock: FairClock) -> None:
        for hospital_id, finish in {**clock.finish, VIRTUAL: clock.virtual}.items():
            self.session.merge(BacklogTurn(pool_id=pool_id, hospital_id=hospital_id, finish=finish))
