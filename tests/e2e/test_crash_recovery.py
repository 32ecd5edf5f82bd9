"""Killing a service mid-stream loses nothing and duplicates nothing."""

from __future__ import annotations

import pytest

from deploy.demo.driver import Scenario
from tests.e2e.claim_chains import assert_one_claim_per_version
from tests.e2e.conftest import Services

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]


def test_services_killed_mid_stream_still_give_one_claim_per_encounter(
    platform: Scenario, services: Services
) -> None:
    # Claims and assignment crash (SIGKILL) while encounters are being pushed and coded.
    services.stop("claims", kill=True)
    pushed = platform.push_all()
    services.stop("assignment", kill=True)
    services.start("assignment")
    platform.code_worklists()
    services.start("claims")

    views = platform.run_until_claimed(pushed, timeout=60)

    assert {v["claim"]["status"] for v in views.values()} == {"paid"}
    assert_one_claim_per_version(platform, views)


def test_every_service_restarted_keeps_the_encounters_and_processes_nothing_twice(
    platform: Scenario, services: Services
) -> None:
    first = platform.run_until_claimed(platform.push_all(), timeout=60)
    for name in list(services.processes):
        services.stop(name)
        services.start(name)

    again = platform.push_all()

    assert {k: v["id"] for k, v in again.items()} == {k: v["id"] for k, v in first.items()}
    assert platform.code_worklists() == 0
    assert_one_claim_per_version(platform, platform.run_until_claimed(again, timeout=10))
