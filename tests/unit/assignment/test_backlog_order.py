"""A pool's backlog order: oldest discharge day first, hospitals taking fair turns weighted by
their priority within a day, a hospital's own encounters by SLA due time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.assignment.domain.backlog import FairClock, Waiting, inversions, next_in_line

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
DAY = date(2026, 10, 30)


def waiting(
    key: str,
    hospital: str = "mercy",
    dnfb_on: date = DAY,
    due_in: int = 24,
    enqueued: int = 0,
    priority: int = 1,
) -> Waiting:
    return Waiting(
        encounter_key=key,
        hospital_id=hospital,
        dnfb_on=dnfb_on,
        sla_due_at=T0 + timedelta(hours=due_in),
        enqueued_at=T0 + timedelta(seconds=enqueued),
        priority=priority,
    )


def keys(picked: list[Waiting]) -> list[str]:
    return [w.encounter_key for w in picked]


def test_older_discharge_goes_first_then_the_earlier_sla_due_time() -> None:
    backlog = [
        waiting("new", dnfb_on=DAY),
        waiting("old-late", dnfb_on=DAY - timedelta(days=3), due_in=48),
        waiting("old-soon", dnfb_on=DAY - timedelta(days=3), due_in=2),
        waiting("older", dnfb_on=DAY - timedelta(days=9), due_in=72),
    ]

    assert keys(next_in_line(backlog, FairClock(), 4)) == ["older", "old-soon", "old-late", "new"]


def test_only_as_many_as_the_slots_freed() -> None:
    backlog = [waiting(f"e{i}", enqueued=i) for i in range(5)]

    assert keys(next_in_line(backlog, FairClock(), 2)) == ["e0", "e1"]
    assert next_in_line(backlog, FairClock(), 0) == []


def test_a_burst_from_one_hospital_does_not_starve_another_of_the_same_day() -> None:
    burst = [waiting(f"a{i}", "mercy", due_in=1, enqueued=i) for i in range(100)]
    few = [waiting(f"b{i}", "st-luke", due_in=5, enqueued=200 + i) for i in range(3)]
    clock = FairClock()

    # Served one slot at a time, as a coder frees each, with the clock carried across.
    order: list[str] = []
    backlog = burst + few
    for _ in range(8):
        [picked] = next_in_line(backlog, clock, 1)
        order.append(picked.encounter_key)
        backlog = [w for w in backlog if w.encounter_key != picked.encounter_key]

    assert order == ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "a4"]


def test_a_priority_two_hospital_gets_two_turns_for_each_of_a_priority_one() -> None:
    high = [waiting(f"h{i}", "mercy", enqueued=i, priority=2) for i in range(6)]
    low = [waiting(f"l{i}", "st-luke", enqueued=i) for i in range(6)]

    picked = keys(next_in_line(high + low, FairClock(), 9))

    assert picked == ["h0", "l0", "h1", "h2", "l1", "h3", "h4", "l2", "h5"]


def test_a_hospital_back_after_an_idle_spell_gets_its_turn_but_no_catch_up_burst() -> None:
    clock = FairClock()
    busy = [waiting(f"a{i}", "mercy", enqueued=i) for i in range(50)]
    served = next_in_line(busy, clock, 40)  # st-luke had nothing waiting meanwhile
    rest = [w for w in busy if w not in served]
    back = [waiting(f"b{i}", "st-luke", due_in=1, enqueued=100 + i) for i in range(10)]

    # It rejoins at the current turn (and wins the tie after it on its earlier SLA due time),
    # then the two alternate: not ten of its encounters in a row.
    assert keys(next_in_line(rest + back, clock, 6)) == ["b0", "b1", "a40", "b2", "a41", "b3"]


def test_an_older_discharge_day_outranks_the_fair_turns() -> None:
    clock = FairClock()
    today = [waiting(f"a{i}", "mercy", enqueued=i) for i in range(3)]
    older = [waiting("b-old", "st-luke", dnfb_on=DAY - timedelta(days=1), enqueued=9)]
    next_in_line([*today, waiting("b0", "st-luke")], clock, 2)  # st-luke just had a turn

    assert keys(next_in_line(today + older, clock, 2)) == ["b-old", "a0"]


def test_inversions_count_assignments_made_while_one_that_outranks_them_waited() -> None:
    old = waiting("old", dnfb_on=DAY - timedelta(days=2))
    soon, late = waiting("soon", due_in=1), waiting("late", due_in=9)
    other = waiting("other", "st-luke", due_in=0)
    in_order = [(old, T0 + timedelta(minutes=1)), (soon, T0 + timedelta(minutes=2))]
    in_order += [(other, T0 + timedelta(minutes=3)), (late, T0 + timedelta(minutes=4))]
    # Another hospital's turn is fairness, not an inversion; an older day or an earlier due
    # time of the same hospital left waiting is.
    assert inversions(in_order) == 0
    swapped = [(late, T0 + timedelta(minutes=1)), (soon, T0 + timedelta(minutes=2))]
    swapped += [(old, T0 + timedelta(minutes=3))]
    assert inversions(swapped) == 2
    arrived_later = waiting("later-old", dnfb_on=DAY - timedelta(days=5), enqueued=3600)
    assert (
        inversions([(late, T0 + timedelta(minutes=1)), (arrived_later, T0 + timedelta(hours=2))])
        == 0
    )
