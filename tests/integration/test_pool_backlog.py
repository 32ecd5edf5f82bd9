"""Pools' backlogs on the real Temporal dev server and database: encounters waiting for a full
pool are assigned the moment a slot frees, in priority order, fairly across hospitals."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from services.assignment.backlog import Backlog, offer_slots
from services.assignment.backlog_db import pool_backlogs
from services.assignment.db import AssignmentRepository, VendorPool
from services.assignment.domain.models import PoolAssignment
from tests.integration.conftest import Assignment, pool, received_from, replay_and_save

pytestmark = [pytest.mark.temporal, pytest.mark.kafka]

SERVED = date(2026, 9, 14)
# Seconds: the old retry looked again after 5 minutes. A second or two on a quiet machine; the
# bound leaves room for a machine busy with other stacks.
NO_POLLING = 20.0


def full_pool(capacity: int = 1) -> VendorPool:
    row = pool("pro-pool", 3600)
    row.capacity = capacity
    return row


async def arrive(
    assignment: Assignment, unique: str, name: str, hospital: str, days_ago: int
) -> str:
    """An encounter served `days_ago` days before SERVED (its DNFB age) reaches assignment."""
    envelope = received_from(unique, hospital, name, SERVED - timedelta(days=days_ago))
    await assignment.handlers.on_encounter_received(envelope)
    return envelope.subject


async def waiting(assignment: Assignment, keys: list[str]) -> None:
    for key in keys:
        await assignment.wait_for(key, lambda s: s.status == "waiting_for_pool")
    # ...and each has joined the pool's backlog (the status is set just before).
    async with asyncio.timeout(30):
        while (await assignment.db.run(pool_backlogs))[0].waiting < len(keys):
            await asyncio.sleep(0.1)


async def assigned(assignment: Assignment, keys: list[str]) -> str:
    """The one of `keys` that gets the pool's slot next (none other does)."""
    async with asyncio.timeout(30):
        while True:
            statuses = [await assignment.status(key) for key in keys]
            got = [s.encounter_key for s in statuses if s.status == "assigned"]
            if got:
                assert len(got) == 1, got
                return got[0]
            await asyncio.sleep(0.05)


async def free_the_slot(assignment: Assignment, key: str) -> None:
    """The coder submits the encounter holding the pool's only slot."""
    status = await assignment.wait_for(key, lambda s: s.status == "assigned")
    assert status.task_id is not None
    await assignment.submit(status.task_id, key)


async def test_a_freed_slot_goes_at_once_to_the_next_in_priority_order(
    assignment: Assignment, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(full_pool(capacity=1)))
    first = await arrive(assignment, unique, "first", "mercy", days_ago=0)
    await assignment.wait_for(first, lambda s: s.status == "assigned")
    # Arriving in this order; discharged (served) 1, 9, 4 and 9 days before.
    backlog: list[str] = []
    for name, days_ago in (("recent", 1), ("oldest", 9), ("middle", 4), ("oldest-too", 9)):
        backlog.append(await arrive(assignment, unique, name, "mercy", days_ago))
        await waiting(assignment, backlog)  # each joins after the one before
    recent, oldest, middle, oldest_too = backlog

    order, delays, holder = [], [], first
    backlog = list(backlog)
    while backlog:
        freed_at = time.monotonic()
        await free_the_slot(assignment, holder)
        holder = await assigned(assignment, backlog)
        delays.append(time.monotonic() - freed_at)
        order.append(holder)
        backlog.remove(holder)

    # Older DNFB first; of the same day, the first to wait (its SLA is due first).
    assert order == [oldest, oldest_too, middle, recent]
    assert max(delays) < NO_POLLING, delays
    [figures] = await assignment.db.run(pool_backlogs)
    # The last one holds the slot: its task is out, or about to be (offered).
    assert (figures.capacity, figures.open_tasks + figures.offered, figures.waiting) == (1, 1, 0)
    await assignment.wait_for(oldest, lambda s: s.status == "released")
    await replay_and_save(assignment.handle(oldest), "encounter_coding_backlog_offered")


async def test_raising_a_pools_capacity_assigns_its_waiting_encounters_at_once(
    assignment: Assignment, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(full_pool(capacity=1)))
    first = await arrive(assignment, unique, "first", "mercy", days_ago=0)
    await assignment.wait_for(first, lambda s: s.status == "assigned")
    backlog = [await arrive(assignment, unique, f"e{i}", "mercy", days_ago=i) for i in range(4)]
    await waiting(assignment, backlog)
    [before] = await assignment.db.run(pool_backlogs)

    await assignment.db.run(lambda s: s.merge(full_pool(capacity=3)))  # what PUT pool does
    await Backlog(assignment.db, assignment.client, assignment.settings).dispatch(["pro-pool"])
    async with asyncio.timeout(NO_POLLING):  # no look every 5 minutes: it fails past this
        while sum([(await assignment.status(k)).status == "assigned" for k in backlog]) < 2:
            await asyncio.sleep(0.05)

    assert (before.waiting, before.open_tasks) == (4, 1)
    now_assigned = {k for k in backlog if (await assignment.status(k)).status == "assigned"}
    assert now_assigned == set(backlog[2:])  # the two oldest (served 3 and 2 days before)
    [after] = await assignment.db.run(pool_backlogs)
    assert (after.capacity, after.open_tasks + after.offered, after.waiting) == (3, 3, 2)


async def test_two_hospitals_bursts_interleave_fairly(assignment: Assignment, unique: str) -> None:
    await assignment.db.run(lambda s: s.add(full_pool(capacity=1)))
    first = await arrive(assignment, unique, "first", "mercy", days_ago=0)
    await assignment.wait_for(first, lambda s: s.status == "assigned")
    burst = [await arrive(assignment, unique, f"m{i}", "mercy", days_ago=2) for i in range(4)]
    await waiting(assignment, burst)
    later = [await arrive(assignment, unique, f"s{i}", "st-luke", days_ago=2) for i in range(2)]
    await waiting(assignment, burst + later)

    order, holder, backlog = [], first, burst + later
    while backlog:
        await free_the_slot(assignment, holder)
        holder = await assigned(assignment, backlog)
        order.append(holder)
        backlog.remove(holder)

    # Same discharge day: the hospitals take turns though st-luke's came after mercy's burst
    # (first come, first served would give st-luke the last two).
    hospitals = [key.removeprefix(unique).split(":")[0] for key in order]
    assert hospitals == ["mercy", "st-luke", "mercy", "st-luke", "mercy", "mercy"]


async def test_an_offer_whose_signal_a_crash_lost_is_sent_when_the_worker_starts(
    assignment: Assignment, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(full_pool(capacity=1)))
    first = await arrive(assignment, unique, "first", "mercy", days_ago=0)
    status = await assignment.wait_for(first, lambda s: s.status == "assigned")
    second = await arrive(assignment, unique, "second", "mercy", days_ago=0)
    await waiting(assignment, [second])

    # The slot frees and the dispatcher commits its offer, then the process dies before the
    # signal: the offer is in the database only.
    def crash_after_offer(session: Session) -> list[tuple[str, PoolAssignment]]:
        for task in AssignmentRepository(session).tasks([status.task_id or ""]):
            task.open = False
            session.add(task)
        session.flush()
        return offer_slots(session, "pro-pool")

    [(offered, _)] = await assignment.db.run(crash_after_offer)
    await asyncio.sleep(1)
    assert (await assignment.status(second)).status == "waiting_for_pool"

    await Backlog(assignment.db, assignment.client, assignment.settings).dispatch_all()
    # Assigned within NO_POLLING (wait_for fails past it), not at the workflow's backstop.
    await assignment.wait_for(second, lambda s: s.status == "assigned", NO_POLLING)

    assert offered == second
