"""What "nothing processed twice" means once denials are reworked: per encounter, one claim
per version of its claim (1, 2, …), as many versions as the sample data's coding needs (a
`rework` entry means the payer denies the first codes and the coder corrects them), and the
newest version is the claim the hospital sees."""

from __future__ import annotations

from typing import Any

from deploy.demo.driver import Scenario


def expected_versions(platform: Scenario) -> dict[str, int]:
    hospital_id = platform.data["hospital"]["id"]
    return {
        f"{hospital_id}:{item['encounter']['external_id']}": 2 if "rework" in item else 1
        for item in platform.data["encounters"]
    }


def assert_one_claim_per_version(platform: Scenario, views: dict[str, dict[str, Any]]) -> None:
    expected = expected_versions(platform)
    for view in views.values():
        key = view["encounter_key"]
        claims = sorted(platform.claims_for(key), key=lambda c: c["version"])
        assert [c["version"] for c in claims] == list(range(1, expected[key] + 1)), key
        assert claims[-1]["id"] == view["claim"]["claim_id"], key
