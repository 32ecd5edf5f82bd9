"""Which waiting claim status events the workflow need not be told (a newer step is in hand)."""

from __future__ import annotations

import pytest

from services.assignment.domain.claim_verdicts import is_passed_by


def step(status: str, n: int, claim_id: str = "c1") -> dict[str, object]:
    return {"claim_id": claim_id, "status": status, "step": n}


@pytest.mark.parametrize("status", ["built", "submitted", "accepted", "acknowledged", "reversed"])
def test_an_intermediate_step_is_passed_by_a_later_step_of_the_same_claim(status: str) -> None:
    assert is_passed_by(step(status, 1), step("paid", 4))


@pytest.mark.parametrize(
    "status", ["paid", "partially_paid", "denied", "rejected", "held", "submission_failed"]
)
def test_a_final_step_is_always_told_even_when_the_claim_moved_on(status: str) -> None:
    # e.g. rejected, then built again by billing: the workflow decides on the rejection.
    assert not is_passed_by(step(status, 2), step("built", 3))


def test_another_claim_or_an_older_step_passes_nothing() -> None:
    assert not is_passed_by(step("submitted", 1, "c1"), step("paid", 4, "c2"))
    assert not is_passed_by(step("accepted", 3), step("submitted", 1))
