"""The ops page's figures: DNFB ages against the goal, turnaround per class, throughput per
interval, backlog per pool, and the Temporal UI lists behind them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from services.assignment.domain.ops_figures import (
    Milestones,
    dnfb,
    interval_for,
    pool_backlog,
    throughput,
    turnaround,
)
from services.assignment.domain.ops_links import list_url, ops_queries, scoped, workflow_url

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def enc(
    key: str,
    age_days: float,
    cls: str = "inpatient",
    received_h: float = 10,
    coded_h: float | None = None,
    billed_h: float | None = None,
    closed: bool = False,
) -> Milestones:
    """Discharged `age_days` ago, received `received_h` hours ago, coded and billed `*_h`
    hours ago."""
    ago = lambda hours: None if hours is None else NOW - timedelta(hours=hours)  # noqa: E731
    return Milestones(
        encounter_key=key,
        encounter_class=cls,
        discharged_at=NOW - timedelta(days=age_days),
        received_at=NOW - timedelta(hours=received_h),
        coded_at=ago(coded_h),
        billed_at=ago(billed_h),
        closed=closed,
    )


def test_dnfb_counts_the_unbilled_open_ones_and_ages_them_against_the_goal() -> None:
    encounters = [
        enc("a", 1.5),
        enc("b", 3.0, coded_h=2),  # coded, not billed yet: still DNFB
        enc("c", 6.25),
        enc("d", 9.0),
        enc("e", 12.0, coded_h=5, billed_h=1),  # billed
        enc("f", 20.0, closed=True),  # returned or cancelled: never billed here
    ]

    figure = dnfb(encounters, NOW, goal_days=4)

    assert figure.count == 4
    assert (figure.p50_days, figure.max_days) == (3.0, 9.0)
    assert figure.over_goal == 2
    assert [(o.encounter_key, o.age_days) for o in figure.oldest] == [("d", 9.0), ("c", 6.25)]
    assert figure.age_histogram == [0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0]


def test_dnfb_of_nothing_and_the_oldest_bucket() -> None:
    assert dnfb([], NOW, 4).model_dump() | {"age_histogram": []} == {
        "count": 0,
        "goal_days": 4,
        "p50_days": None,
        "max_days": None,
        "over_goal": 0,
        "oldest": [],
        "age_histogram": [],
    }
    assert dnfb([enc("x", 45)], NOW, 4).age_histogram[-1] == 1  # 10 days and more


def test_turnaround_per_class_from_receipt_to_coded_and_to_billed() -> None:
    encounters = [
        enc("i1", 3, "inpatient", received_h=10, coded_h=9, billed_h=6),  # 1 h, 4 h
        enc("i2", 3, "inpatient", received_h=10, coded_h=8, billed_h=2),  # 2 h, 8 h
        enc("i3", 3, "inpatient", received_h=10, coded_h=4),  # 6 h, not billed
        enc("p1", 1, "professional", received_h=5, coded_h=4.5),  # 30 min
        enc("o1", 1, "outpatient", received_h=5),  # nothing yet
        enc("old", 9, "outpatient", received_h=60, coded_h=50, billed_h=30),  # before window
    ]

    figures = turnaround(encounters, since=NOW - timedelta(hours=24))

    assert [(t.encounter_class, t.coded, t.billed) for t in figures] == [
        ("inpatient", 3, 2),
        ("professional", 1, 0),
    ]
    inpatient = figures[0]
    assert (inpatient.to_coded_p50, inpatient.to_coded_p90) == (7200, 21600)
    assert (inpatient.to_billed_p50, inpatient.to_billed_p90) == (14400, 28800)
    assert figures[1].to_coded_p50 == 1800 and figures[1].to_billed_p50 is None


def test_throughput_counts_coded_and_billed_per_interval_oldest_first() -> None:
    encounters = [
        enc("a", 1, coded_h=0.5, billed_h=0.25),
        enc("b", 1, coded_h=0.75),
        enc("c", 1, coded_h=2.5, billed_h=1.5),
        enc("d", 1, coded_h=5),  # before the window
    ]

    intervals = throughput(encounters, NOW, timedelta(hours=1), 3)

    assert [i.start for i in intervals] == [NOW - timedelta(hours=h) for h in (3, 2, 1)]
    assert [(i.coded, i.billed) for i in intervals] == [(1, 0), (0, 1), (2, 1)]


def test_interval_fits_the_window_in_whole_minutes() -> None:
    assert interval_for(timedelta(hours=24), 24) == timedelta(hours=1)
    assert interval_for(timedelta(hours=1), 24) == timedelta(seconds=150)
    assert interval_for(timedelta(minutes=10), 24) == timedelta(seconds=25)
    assert interval_for(timedelta(minutes=1), 24) == timedelta(seconds=10)


def test_backlog_per_pool_against_capacity_most_loaded_first() -> None:
    rows = pool_backlog({"fast": 10, "slow": 4, "idle": 5}, {"fast": 5, "slow": 4}, {"slow": 2})

    assert [(r.pool_id, r.open_tasks, r.waiting, r.capacity) for r in rows] == [
        ("slow", 4, 2, 4),
        ("fast", 5, 0, 10),
        ("idle", 0, 0, 5),
    ]


def test_links_are_temporal_ui_lists_with_the_query_encoded() -> None:
    queries = ops_queries(NOW, ["north star"])
    query = scoped(queries["pool:north star"], "t-1-")

    url = list_url("http://127.0.0.1:8233/", "default", query)

    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("127.0.0.1:8233", "/namespaces/default/workflows")
    assert " " not in url and "'" not in url and "=" not in parts.query.removeprefix("query=")
    assert parse_qs(parts.query) == {"query": [query]}
    assert query == (
        "(WorkflowType = 'EncounterCoding' AND ExecutionStatus = 'Running' AND "
        "VendorPool = 'north star' AND CodingStatus IN ('assigned', 'escalated', 'on_hold', "
        "'query_pending', 'rework_assigned', 'sla_breached')) AND WorkflowId STARTS_WITH 't-1-'"
    )
    assert scoped("Escalated = true", "") == "Escalated = true"
    assert "SlaDueAt < '2026-11-29T12:00:00Z'" in queries["past_sla"]
    assert queries["billed"].endswith(
        "ClaimStatus IN ('accepted', 'acknowledged', 'denied', 'paid', 'partially_paid')"
    )
    assert workflow_url("http://ui", "default", "encounter-coding/mercy:E 1") == (
        "http://ui/namespaces/default/workflows?query="
        "WorkflowId%20%3D%20%27encounter-coding%2Fmercy%3AE%201%27"
    )
