"""Pools' backlogs: a waiting encounter joins the backlog of every pool that may take it, and the
moment a pool's capacity frees (a task closed, capacity raised) its next encounters by the rule
of `domain.backlog` are offered the slots and their workflows signalled — no polling.

An offer is durable before it is signalled: an offered entry holds its slot in the database
until the encounter's task is published. Each dispatch signals every entry still offered in the
pool again (a workflow takes one offer and ignores repeats), so a signal lost to a crash or a
Temporal outage is sent by the next dispatch: the retried activity's, the worker's at start, or
the workflow's own when its backstop timer makes it join again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlmodel import Session, select, text
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.assignment.backlog_db import BacklogRepository
from services.assignment.db import (
    AssignmentRepository,
    BacklogEntry,
    VendorPool,
    open_task_counts,
    utc,
)
from services.assignment.domain.backlog import DEFAULT_PRIORITY, next_in_line
from services.assignment.domain.models import BacklogPlace, PoolAssignment, RouteRequest
from services.assignment.domain.routing import eligible_pools
from shared.db import Database
from shared.events.intake import EncounterReceived
from shared.settings import ChartflowSettings

log = structlog.get_logger()
POOL_OFFERED = "pool_offered"  # EncounterCoding's signal (by name: workflows imports this)
BACKLOG_LOCK = 0x6261636B  # one dispatcher at a time across replicas (PostgreSQL)
# An offer not taken this long after it was made is signalled again (its signal may be lost);
# a fresh one is not, so a busy pool's dispatches do not flood workflows with repeats.
RESEND_OFFER = timedelta(seconds=30)


def lock_backlogs(session: Session) -> None:
    """Serialise changes to the backlogs: an encounter waits in several pools' backlogs."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text(f"SELECT pg_advisory_xact_lock({BACKLOG_LOCK})"))  # type: ignore[call-overload]


def pool_assignment(pool: VendorPool) -> PoolAssignment:
    return PoolAssignment(
        pool_id=pool.id,
        vendor_id=pool.vendor_id,
        sla_seconds=pool.sla_seconds,
        rework_sla_seconds=pool.rework_sla_seconds,
    )


def join_backlogs(session: Session, request: RouteRequest) -> BacklogPlace:
    """Queue the encounter in every eligible pool's backlog (it keeps its place when it joins
    again); a slot already offered to it comes back in the answer."""
    lock_backlogs(session)
    repo = AssignmentRepository(session)
    joined = {e.pool_id: e for e in BacklogRepository(session).entries(request.encounter_key)}
    offered = next((e for e in joined.values() if e.offered_at is not None), None)
    if offered is not None:
        given = repo.pool(offered.pool_id)
        return BacklogPlace(
            pool_ids=[offered.pool_id], offered=pool_assignment(given) if given else None
        )
    routed = repo.routed(request.encounter_key)
    if routed is None:
        return BacklogPlace()
    encounter = EncounterReceived.model_validate_json(routed.received).encounter
    since = min((e.enqueued_at for e in joined.values()), default=datetime.now(UTC))
    pools = eligible_pools(
        repo.pool_profiles(),
        request.encounter_class,
        request.hospital_id,
        request.exclude_pools,
    )
    for pool in pools:
        if pool.pool_id not in joined:
            session.add(
                BacklogEntry(
                    encounter_key=request.encounter_key,
                    pool_id=pool.pool_id,
                    hospital_id=request.hospital_id,
                    dnfb_on=encounter.discharge_date or encounter.service_date,
                    sla_due_at=since + timedelta(seconds=pool.sla_seconds),
                    enqueued_at=since,
                )
            )
    return BacklogPlace(pool_ids=[p.pool_id for p in pools])


def offer_slots(
    session: Session, pool_id: str, resend_after: timedelta = RESEND_OFFER
) -> list[tuple[str, PoolAssignment]]:
    """Offer the pool's free slots to its next waiting encounters: those, and any signalled
    `resend_after` ago or more and not taken yet, are to be signalled (now)."""
    lock_backlogs(session)
    pool = session.get(VendorPool, pool_id)
    if pool is None:
        return []
    repo = BacklogRepository(session)
    now = datetime.now(UTC)
    offered = repo.offered(pool_id)
    stale = [e for e in offered if e.offered_at and utc(e.offered_at) <= now - resend_after]
    for entry in stale:  # signalled now: not again by every dispatch of a busy pool
        entry.offered_at = now
        session.add(entry)
    free = pool.capacity - open_task_counts(session).get(pool_id, 0) - len(offered)
    fresh: list[str] = []
    if free > 0:
        priorities = repo.priorities()
        clock = repo.clock(pool_id)
        heads = repo.heads(pool_id, free)
        waiting = [e.waiting(priorities.get(e.hospital_id, DEFAULT_PRIORITY)) for e in heads]
        for chosen in next_in_line(waiting, clock, free):
            fresh.append(chosen.encounter_key)
            for entry in repo.entries(chosen.encounter_key):
                if entry.pool_id == pool_id:
                    entry.offered_at = now
                    session.add(entry)
                else:  # it waits nowhere else now
                    session.delete(entry)
        repo.save_clock(pool_id, clock)
    offer = pool_assignment(pool)
    return [(key, offer) for key in fresh + [e.encounter_key for e in stale]]


def leave_backlogs(session: Session, encounter_key: str, keep_pool: str | None = None) -> set[str]:
    """The encounter waits no more (assigned or cancelled); the pools whose offered slot it
    gave back, other than `keep_pool` (the one its task went to)."""
    lock_backlogs(session)
    freed = set()
    for entry in BacklogRepository(session).entries(encounter_key):
        if entry.offered_at is not None and entry.pool_id != keep_pool:
            freed.add(entry.pool_id)
        session.delete(entry)
    return freed


class Backlog:
    """Dispatches pools' freed capacity to their backlogs and signals the workflows."""

    def __init__(self, db: Database, client: Client, settings: ChartflowSettings) -> None:
        self.db = db
        self.client = client
        self.namespace = settings.chartflow_namespace_prefix
        self._rounds: dict[str, _Rounds] = {}

    async def join(
        self, request: RouteRequest, resend_after: timedelta = RESEND_OFFER
    ) -> BacklogPlace:
        place = await self.db.run(lambda s: join_backlogs(s, request))
        if place.offered is None:  # a slot may have freed while it joined
            await self.dispatch(place.pool_ids, resend_after)
        return place

    async def dispatch(
        self, pool_ids: Iterable[str], resend_after: timedelta = RESEND_OFFER
    ) -> None:
        """Offer the pools' free slots; `resend_after=0` signals every untaken offer again
        (a retry, or a start after a crash: a signal may have been lost). It returns once a
        round that began after the call has offered each pool's slots: calls made while a
        round runs share the next one (a burst of releases is one round, not one each)."""
        await asyncio.gather(*(self._dispatch(p, resend_after) for p in sorted(set(pool_ids))))

    async def _dispatch(self, pool_id: str, resend_after: timedelta) -> None:
        rounds = self._rounds.setdefault(pool_id, _Rounds())
        rounds.asked += 1
        ticket = rounds.asked
        rounds.ask_resend(resend_after)
        async with rounds.lock:
            if rounds.served >= ticket:  # a round that began after this call has run
                return
            covered, resend = rounds.asked, rounds.take_resend()
            try:
                await self._offer_round(pool_id, resend)
            except BaseException:
                rounds.ask_resend(resend)  # the next round resends what this one would have
                raise
            rounds.served = covered

    async def _offer_round(self, pool_id: str, resend: timedelta) -> None:
        while True:  # until none of the offered workflows had ended
            offers = await self.db.run(lambda s, r=resend: offer_slots(s, pool_id, r))  # type: ignore[misc]
            signalled = await asyncio.gather(*(self._signal(key, o) for key, o in offers))
            gone = [key for (key, _), ok in zip(offers, signalled, strict=True) if not ok]
            if not gone:
                return
            # Their workflows ended: the slots go to the next in line.
            await self.db.run(lambda s, ended=gone: [leave_backlogs(s, k) for k in ended])  # type: ignore[misc]
            resend = RESEND_OFFER

    async def dispatch_all(self) -> None:
        """At start: whatever a crash left undone (offers unsignalled, capacity not given)."""
        pools = await self.db.run(lambda s: list(s.exec(select(VendorPool.id))))
        await self.dispatch(pools, resend_after=timedelta(0))

    async def _signal(self, encounter_key: str, offer: PoolAssignment) -> bool:
        from services.assignment.workflows import workflow_id  # it imports the activities

        handle = self.client.get_workflow_handle(workflow_id(encounter_key, self.namespace))
        try:
            await handle.signal(POOL_OFFERED, offer)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("backlog.workflow_closed", encounter=encounter_key)
            return False
        return True


@dataclass
class _Rounds:
    """One pool's dispatch rounds in this process: calls asked, calls a finished round covered,
    and the shortest resend interval asked since the last round began."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    asked: int = 0
    served: int = 0
    resend: timedelta | None = None

    def ask_resend(self, resend_after: timedelta) -> None:
        self.resend = resend_after if self.resend is None else min(self.resend, resend_after)

    def take_resend(self) -> timedelta:
        resend, self.resend = self.resend, None
        return RESEND_OFFER if resend is None else resend
