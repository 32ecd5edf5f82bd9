"""Who a pool's freed capacity goes to: the order of its backlog, fair across hospitals.

The rule, in order:
1. Discharge day (DNFB age): an encounter discharged (or, with no discharge, served) on an
   earlier day goes first. Each day is a band.
2. Within a band, hospitals take turns by start-time fair queueing weighted by the hospital's
   priority: a priority-2 hospital gets two turns for each turn of a priority-1 hospital, and a
   hospital that had nothing waiting rejoins at the current turn (no catch-up burst). So one
   hospital's burst cannot starve another's encounters of the same day.
3. A hospital's own encounters in a band go by SLA due time, then by when they began waiting.
4. Ties between hospitals' turns: the earlier SLA due time, then the higher priority, then the
   hospital id.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

DEFAULT_PRIORITY = 1
VIRTUAL = ""  # the fair clock's key for the pool's current turn (no hospital id is empty)


@dataclass(frozen=True)
class Waiting:
    """An encounter in a pool's backlog (ids, days and times only)."""

    encounter_key: str
    hospital_id: str
    dnfb_on: date  # discharged on, or served on when there is no discharge
    sla_due_at: datetime
    enqueued_at: datetime
    priority: int = DEFAULT_PRIORITY  # the hospital's: its weight in the turns

    def own_rank(self) -> tuple[date, datetime, datetime, str]:
        """Its place among its own hospital's encounters."""
        return (self.dnfb_on, self.sla_due_at, self.enqueued_at, self.encounter_key)


@dataclass
class FairClock:
    """A pool's turns: each hospital's finish tag and the pool's current (virtual) turn."""

    virtual: float = 0.0
    finish: dict[str, float] = field(default_factory=dict)

    def start(self, hospital_id: str) -> float:
        return max(self.finish.get(hospital_id, 0.0), self.virtual)

    def serve(self, hospital_id: str, priority: int) -> None:
        start = self.start(hospital_id)
        self.finish[hospital_id] = start + 1.0 / max(priority, 1)
        self.virtual = start


def next_in_line(waiting: Iterable[Waiting], clock: FairClock, slots: int) -> list[Waiting]:
    """Up to `slots` encounters, in the order they get the freed capacity; `clock` advances."""
    heads: dict[tuple[date, str], list[Waiting]] = {}
    for entry in sorted(waiting, key=Waiting.own_rank):
        heads.setdefault((entry.dnfb_on, entry.hospital_id), []).append(entry)
    picked: list[Waiting] = []
    while len(picked) < slots and heads:
        band = min(day for day, _ in heads)
        queues = [queue for (day, _), queue in heads.items() if day == band]
        turn = min(
            queues,
            key=lambda q: (
                clock.start(q[0].hospital_id),
                q[0].sla_due_at,
                -q[0].priority,
                q[0].hospital_id,
            ),
        )
        entry = turn.pop(0)
        clock.serve(entry.hospital_id, entry.priority)
        picked.append(entry)
        if not turn:
            del heads[(band, entry.hospital_id)]
    return picked


def outranks(first: Waiting, then: Waiting) -> bool:
    """`first` must be assigned before `then` whatever the turns: an older discharge day, or
    the same hospital and day with an earlier SLA due time (an inversion otherwise)."""
    if first.dnfb_on != then.dnfb_on:
        return first.dnfb_on < then.dnfb_on
    return first.hospital_id == then.hospital_id and first.own_rank() < then.own_rank()


def inversions(assigned: Sequence[tuple[Waiting, datetime]]) -> int:
    """How many assignments went to an encounter while one that outranks it still waited
    (it had begun waiting by then): 0 when the order was respected."""
    arrivals = sorted((pair[0] for pair in assigned), key=lambda w: w.enqueued_at)
    gone: set[str] = set()
    days: list[tuple[date, str]] = []  # heaps with lazy deletion of assigned entries
    own: dict[tuple[date, str], list[tuple[tuple[date, datetime, datetime, str], str]]] = {}
    arrived, count = 0, 0
    for entry, at in sorted(assigned, key=lambda pair: pair[1]):
        while arrived < len(arrivals) and arrivals[arrived].enqueued_at <= at:
            other = arrivals[arrived]
            heapq.heappush(days, (other.dnfb_on, other.encounter_key))
            key = (other.dnfb_on, other.hospital_id)
            heapq.heappush(own.setdefault(key, []), (other.own_rank(), other.encounter_key))
            arrived += 1
        gone.add(entry.encounter_key)
        while days and days[0][1] in gone:
            heapq.heappop(days)
        queue = own.get((entry.dnfb_on, entry.hospital_id), [])
        while queue and queue[0][1] in gone:
            heapq.heappop(queue)
        older_day = bool(days) and days[0][0] < entry.dnfb_on
        count += older_day or (bool(queue) and queue[0][0] < entry.own_rank())
    return count
