"""Query figures: counts by outcome and response-time percentiles per hospital and per coder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.assignment.domain.query_figures import QueryLife, percentile, query_figures

T0 = datetime(2026, 9, 14, 8, tzinfo=UTC)


def life(
    hospital: str, coder: str, status: str, hours: float = 0, escalated: bool = False
) -> QueryLife:
    answered = T0 + timedelta(hours=hours) if status == "answered" else None
    return QueryLife(hospital, coder, status, T0, answered, escalated)


def test_nearest_rank_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 50) == 5.0
    assert percentile(values, 90) == 9.0
    assert percentile(list(reversed(values)), 100) == 10.0


def test_figures_per_hospital_and_per_coder() -> None:
    lives = [
        *(life("mercy", "ava", "answered", hours=h) for h in (1, 2, 3, 4, 10)),
        life("mercy", "ben", "withdrawn"),
        life("mercy", "ben", "open", escalated=True),
        life("st-luke", "ava", "answered", hours=48),
    ]

    by_hospital = {f.key: f for f in query_figures(lives, "hospital")}
    by_coder = {f.key: f for f in query_figures(lives, "coder")}

    mercy = by_hospital["mercy"]
    assert (mercy.raised, mercy.answered, mercy.withdrawn, mercy.open, mercy.escalated) == (
        7,
        5,
        1,
        1,
        1,
    )
    assert mercy.response_p50_seconds == 3 * 3600
    assert mercy.response_p90_seconds == 10 * 3600
    assert by_hospital["st-luke"].response_p50_seconds == 48 * 3600
    assert list(by_coder) == ["ava", "ben"]
    assert by_coder["ava"].raised == 6
    assert by_coder["ava"].response_p90_seconds == 48 * 3600
    assert by_coder["ben"].response_p50_seconds is None  # nothing answered yet
