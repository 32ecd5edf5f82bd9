"""An encounter travels intake → assignment → coding → claims, driven over HTTP only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deploy.demo.driver import Scenario
from tests.e2e.claim_chains import assert_one_claim_per_version

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]


def test_hospital_sees_a_validated_claim_for_every_coded_encounter(platform: Scenario) -> None:
    pushed = platform.push_all()

    views = platform.run_until_claimed(pushed, timeout=60)

    for external_id, view in views.items():
        claim = view["claim"]
        assert view["status"] == "claim_paid", (external_id, view)
        assert [step["status"] for step in claim["history"]] == [
            "built",
            "submitted",
            "accepted",
            "acknowledged",
            "paid",
        ]
        assert "validated by pyx12 with no errors" in claim["history"][1]["reason"]
        assert claim["findings"] == []
        # The demo payer pays every line less a 15% contractual reduction (CO-45).
        expected = (Decimal(claim["total_charge"]) * Decimal("0.85")).quantize(Decimal("0.01"))
        assert Decimal(claim["paid"]) == expected
        assert "CO-45" in claim["reason"]
    kinds = {v["claim"]["history"][0]["reason"].split()[0] for v in views.values()}
    assert kinds == {"837P", "837I"}


def test_pushing_the_same_encounters_again_processes_nothing_twice(platform: Scenario) -> None:
    first = platform.push_all()
    platform.run_until_claimed(first, timeout=60)

    again = platform.push_all()

    assert {k: v["id"] for k, v in again.items()} == {k: v["id"] for k, v in first.items()}
    assert all(v["status"] == "claim_paid" for v in again.values())
    assert platform.code_worklists() == 0  # no new coding task was created
    assert_one_claim_per_version(platform, platform.run_until_claimed(again, timeout=10))
