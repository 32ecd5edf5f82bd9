"""A pre-bill audit over HTTP only: with a 100% sampling rule, an encounter is coded, re-coded
blind by an auditor who changes the principal diagnosis, reconciled, and billed with the
auditor's codes; the coder's feedback and scorecard, and the hospital's vendor figures, show it
with the accuracy computed here by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from deploy.demo.driver import Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

RATIONALE = "The note documents hyperglycemia: E11.65, not E11.9."


def _until(what: str, read: Callable[[], Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := read()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {seconds}s")
        time.sleep(0.5)
    return found


def _ok(answer: httpx.Response) -> Any:
    assert answer.is_success, f"{answer.request.url} -> {answer.status_code}: {answer.text}"
    return answer.json()


def test_an_audited_encounter_is_billed_with_the_auditors_codes_and_scored(
    platform: Scenario,
) -> None:
    e, c = platform.endpoints, platform.client
    admin = {"Authorization": f"Bearer {e.admin_token}"}
    every_one = {"new_coder_audits": 0, "random_percent": 100}
    _ok(c.put(f"{e.assignment}/v1/admin/pools/northstar-pro/audit-policy", json=every_one,
              headers=admin))  # fmt: skip
    auditor = {"id": "auditor-olga", "vendor_id": "northstar", "name": "Olga Auditor, CPC",
               "role": "auditor", "pools": ["northstar-pro"], "credentials": ["CPC"]}  # fmt: skip
    olga = {
        "X-API-Key": _ok(c.post(f"{e.coding}/v1/admin/coders", json=auditor, headers=admin))[
            "api_key"
        ]
    }
    ava = {"X-API-Key": platform.coder_keys["coder-ava"]}
    item = platform.data["encounters"][0]  # the office visit: E11.9, I10, M17.11; 99214, 20610
    pushed = {item["encounter"]["external_id"]: platform.push(item["encounter"])}
    key = next(iter(pushed.values()))["encounter_key"]

    _until("task coded", platform.code_worklists)
    [audit] = _until("audit", lambda: _ok(c.get(f"{e.coding}/v1/audit-worklist", headers=olga)))
    blind = c.get(f"{e.coding}/v1/audits/{audit['id']}", headers=olga)
    recode = {
        **item["coding"],
        "diagnoses": [{"code": "E11.65"}, {"code": "I10"}, {"code": "M17.11"}],
    }
    recoded = _ok(c.post(f"{e.coding}/v1/audits/{audit['id']}/codes", json=recode, headers=olga))
    [difference] = recoded["reconciliation"]["differences"]
    ruling = {"difference_id": difference["id"], "decision": "auditor", "rationale": RATIONALE}
    _ok(c.post(f"{e.coding}/v1/audits/{audit['id']}/reconciliation",
               json={"decisions": [ruling]}, headers=olga))  # fmt: skip
    views = platform.run_until_claimed(pushed, timeout=90)

    assert (audit["encounter_key"], audit["rule"]) == (key, "random")
    assert "reconciliation" not in blind.json() and "E11.9" not in blind.text  # blind
    assert (difference["kind"], difference["description"]) == ("changed", "E11.9 changed to E11.65")
    claim = next(iter(views.values()))["claim"]
    assert claim["status"] == "paid"
    x12 = platform.claim_x12(claim["claim_id"])
    assert "HI*ABK:E1165*ABF:I10*ABF:M1711~" in x12  # the auditor's principal diagnosis
    status = _ok(c.get(f"{e.assignment}/v1/coding-status/{key}", headers=admin))
    history = status["history"]  # after release it follows the claim (claim_paid next)
    audit_step = history.index("audit_pending")
    assert history[audit_step : audit_step + 3] == ["audit_pending", "audited", "released"]
    assert status["audit"]["decision"]["rule"] == "random"
    assert status["audit"]["decision"]["reason"].endswith("< 100%")

    # The coder's feedback: the difference, the decision and the auditor's rationale.
    [feedback] = _ok(c.get(f"{e.coding}/v1/audits", headers=ava))
    [seen] = feedback["differences"]
    assert (seen["description"], seen["decision"], seen["rationale"]) == (
        "E11.9 changed to E11.65", "auditor", RATIONALE,
    )  # fmt: skip
    # By hand: I10, M17.11, 99214 and 20610 kept (4); E11.9 changed (1) and it was the
    # principal (1 more): 4 / (4 + 2). Diagnoses 2 / (2 + 2), procedures 2 / 2.
    card = _ok(c.get(f"{e.coding}/v1/scorecards", params={"by": "coder"}, headers=ava))
    [mine] = card["scorecards"]
    assert (mine["group"], mine["volume"], mine["audited"]) == ("coder-ava", 1, 1)
    assert mine["accuracy_percent"] == round(100 * 4 / 6, 2) == 66.67
    assert mine["diagnoses_accuracy_percent"] == 50.0
    assert mine["procedures_accuracy_percent"] == 100.0
    assert mine["record_accuracy_percent"] == 0.0
    assert mine["differences"]["changed"] == 1
    assert feedback["accuracy_percent"] == 66.67

    # The hospital reads its vendor's figures at intake, once coding has published them.
    hospital = {"X-API-Key": platform.hospital_key}

    def vendor_audited() -> list[dict[str, Any]]:
        vendors = _ok(c.get(f"{e.intake}/v1/scorecards", headers=hospital))["vendors"]
        return [v for v in vendors if v["audited"] == 1]

    [northstar] = _until("published figures", vendor_audited)
    assert (northstar["group"], northstar["volume"], northstar["accuracy_percent"]) == (
        "northstar", 1, 66.67,
    )  # fmt: skip
