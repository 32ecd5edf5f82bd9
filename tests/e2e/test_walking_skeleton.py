"""An encounter travels intake → assignment → coding → claims, driven over HTTP only."""

from __future__ import annotations

import pytest

from deploy.demo.driver import Endpoints, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]


def test_hospital_sees_a_validated_claim_for_every_coded_encounter(platform: Endpoints) -> None:
    scenario = Scenario(platform)
    scenario.seed()
    pushed = scenario.push_all()

    views = scenario.run_until_claimed(pushed, timeout=90)

    for external_id, view in views.items():
        assert view["status"] == "claim_built", (external_id, view)
        assert view["claim"]["status"] == "built"
        assert "validated by pyx12 with no errors" in view["claim"]["reason"]
        assert view["claim"]["findings"] == []
    kinds = {v["claim"]["reason"].split()[0] for v in views.values()}
    assert kinds == {"837P", "837I"}


def test_pushing_the_same_encounters_again_processes_nothing_twice(platform: Endpoints) -> None:
    scenario = Scenario(platform)
    scenario.seed()
    first = scenario.push_all()
    scenario.run_until_claimed(first, timeout=90)

    again = scenario.push_all()

    assert {k: v["id"] for k, v in again.items()} == {k: v["id"] for k, v in first.items()}
    assert scenario.code_worklists() == 0  # no new coding task was created
    views = scenario.run_until_claimed(again, timeout=10)
    claim_ids = {v["claim"]["claim_id"] for v in views.values()}
    assert len(claim_ids) == len(views)
