"""From coded to cash, over HTTP only, against the four running services and the HTTP payer
simulator: a claim denied CO-11 comes back to the coder who coded it with the reason; the
coder corrects it; the replacement claim (CLM05-3 = 7, REF*F8 = the payer's number) passes
pyx12 and is paid, and the encounter's workflow completes; the hospital sees both claim
versions. A contractual reduction (CO-45) and a registration denial (CO-31) make no coder work;
the registration denial is on the hospital's work queue."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from deploy.demo.driver import Endpoints, Scenario
from services.claims.domain import validate_x12
from services.claims.payer_sim import read_837
from tests.conftest import REPO
from tests.e2e.conftest import Services, _wait_healthy
from tests.ports import free_ports

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

DENIED = "DEMO-OV-1003"  # first coded with a knee-pain diagnosis the payer denies (CO-11)
REDUCED = "DEMO-OV-1001"  # paid less the CO-45 contractual reduction
NOT_INSURED = "DEMO-ED-2001"  # the scenario below denies its member CO-31


def _until(what: str, probe: Callable[[], Any], seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := probe()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {seconds}s")
        time.sleep(0.3)
    return found


@pytest.fixture(scope="module")
def payer_sim(services: Services) -> Iterator[int]:
    """The HTTP payer simulator as its own process (as deploy/local runs it)."""
    [port] = free_ports(1)
    log = services.var / "payer-sim.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.claims.payer_sim", "serve", "--port", str(port)],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, log)
        yield port
    finally:
        process.terminate()
        process.wait(15)


@pytest.fixture(scope="module")
def denials(services: Services, payer_sim: int) -> Scenario:
    """The demo's hospital, pools, coder and payer; the payer answers over HTTP with the
    demo's scenarios, and denies one member CO-31 (not the payer's insured)."""
    scenario = Scenario(Endpoints.local(services.ports, services.admin_token, payer_sim))
    scenario.seed()
    scenarios = copy.deepcopy(scenario.data["payers"][0]["simulator"])
    member = _encounter(scenario, NOT_INSURED)["coverage"]["member_id"]
    scenarios["scenarios"].append({"match": {"member_id": member}, "action": "deny", "carc": "31"})
    answer = httpx.put(f"http://127.0.0.1:{payer_sim}/v1/scenarios", json=scenarios, timeout=10)
    assert answer.status_code == 200, answer.text
    return scenario


def _encounter(scenario: Scenario, external_id: str) -> dict[str, Any]:
    return next(
        i["encounter"]
        for i in scenario.data["encounters"]
        if i["encounter"]["external_id"] == external_id
    )


class Staff:
    def __init__(self, scenario: Scenario) -> None:
        self.s, self.e, self.c = scenario, scenario.endpoints, scenario.client
        self.hospital = {"X-API-Key": scenario.hospital_key}
        self.admin = {"Authorization": f"Bearer {scenario.endpoints.admin_token}"}

    def worklist(self, coder: dict[str, str], key: str) -> list[dict[str, Any]]:
        tasks = self.s._ok(self.c.get(f"{self.e.coding}/v1/worklist", headers=coder))
        return [t for t in tasks if t["encounter_key"] == key]

    def view(self, encounter_id: str) -> dict[str, Any]:
        return self.s.encounter(encounter_id)

    def workflow(self, key: str) -> dict[str, Any]:
        url = f"{self.e.assignment}/v1/coding-status/{key}"
        return self.s._ok(self.c.get(url, headers=self.admin))


def test_a_co11_denial_is_reworked_by_its_coder_and_the_replacement_is_paid(
    denials: Scenario,
) -> None:
    staff = Staff(denials)
    ava = {"X-API-Key": denials.coder_keys["coder-ava"]}
    pushed = denials.push(_encounter(denials, DENIED))
    key = pushed["encounter_key"]
    [task] = _until("the coding task", lambda: staff.worklist(ava, key))
    first = denials.answers()[key]
    assert denials._checked(
        denials.client.post(
            f"{staff.e.coding}/v1/tasks/{task['id']}/codes", json=first, headers=ava
        )
    )
    # Abe joins the pool with nothing to do: a rework routed by load alone would go to him.
    abe_body = {"id": "coder-abe", "vendor_id": "northstar", "name": "Abe Coder, CPC",
                "pools": ["northstar-pro"], "credentials": ["CPC"]}  # fmt: skip
    abe = {"X-API-Key": denials._ok(
        denials.client.post(f"{staff.e.coding}/v1/admin/coders", json=abe_body, headers=staff.admin)
    )["api_key"]}  # fmt: skip
    denials.coder_keys["coder-abe"] = abe["X-API-Key"]  # the simulated coder codes his work too

    [rework] = _until(
        "the rework on Ava's worklist",
        lambda: [t for t in staff.worklist(ava, key) if t["kind"] == "rework"],
    )
    assert staff.worklist(abe, key) == []
    assert "CO-11" in rework["rework_reason"] and "line 2 20610" in rework["rework_reason"]
    opened = denials._ok(
        denials.client.get(f"{staff.e.coding}/v1/tasks/{rework['id']}", headers=ava)
    )
    [reason] = opened["rework"]["reasons"]
    assert (reason["code"], reason["lines"][0]["procedure_code"]) == ("CO-11", "20610")
    assert [d["code"] for d in opened["rework"]["diagnoses"]] == ["M25.561"]  # what was billed
    corrected = denials.answers("rework")[key]
    url = f"{staff.e.coding}/v1/tasks/{rework['id']}/codes"
    denials._checked(denials.client.post(url, json=corrected, headers=ava))

    view = _until(
        "the replacement paid",
        lambda: (
            (v := staff.view(pushed["id"]))["claim"]["status"] == "paid"
            and len(v["claims"]) == 2
            and v
        ),
    )
    original, replacement = view["claims"]
    assert (original["frequency"], original["status"]) == ("1", "partially_paid")
    assert [t["code"] for t in original["triage"] if t["cause"] == "coding"] == ["CO-11"]
    assert (replacement["frequency"], replacement["replaces_claim_id"]) == (
        "7",
        original["claim_id"],
    )
    assert [h["status"] for h in replacement["history"]][-1] == "paid"
    x12 = denials.claim_x12(replacement["claim_id"])
    ok, errors = validate_x12(x12)
    assert ok, errors[:3]
    (inbound,) = read_837(x12).claims
    assert (inbound.frequency, inbound.original_reference) == ("7", original["payer_claim_id"])
    assert inbound.diagnoses == ["M1711"]
    workflow = _until(
        "the workflow's end", lambda: (w := staff.workflow(key))["status"] == "claim_paid" and w
    )
    assert workflow["claim_version"] == 2 and workflow["reworks"][0]["coder_id"] == "coder-ava"
    assert workflow["history"][-4:] == ["rework_assigned", "coded", "released", "claim_paid"]
    mine = denials._ok(denials.client.get(f"{staff.e.coding}/v1/denial-rate", headers=ava))
    assert [(r["id"], r["coding_denials"]) for r in mine["coders"]] == [("coder-ava", 1)]


def test_contractual_and_registration_adjustments_make_no_coder_work(denials: Scenario) -> None:
    staff = Staff(denials)
    pushed = {
        external_id: denials.push(_encounter(denials, external_id))
        for external_id in (REDUCED, NOT_INSURED)
    }

    views = denials.run_until_claimed(pushed, timeout=120)

    reduced, not_insured = views[REDUCED], views[NOT_INSURED]
    assert reduced["claim"]["status"] == "paid" and not_insured["claim"]["status"] == "denied"
    assert {t["code"]: t["cause"] for t in reduced["claims"][-1]["triage"]} == {"CO-45": "payer"}
    assert {t["code"]: t["cause"] for t in not_insured["claims"][-1]["triage"]} == {
        "CO-31": "billing"
    }
    for view in (reduced, not_insured):
        assert len(view["claims"]) == 1  # no corrected claim
        workflow = _until(
            "the workflow's end",
            lambda v=view: (
                (w := staff.workflow(v["encounter_key"]))["status"].startswith("claim_") and w
            ),
        )
        assert workflow["reworks"] == [] and "rework_assigned" not in workflow["history"]
    assert staff.workflow(not_insured["encounter_key"])["status"] == "claim_denied"
    queue = denials._ok(
        denials.client.get(f"{staff.e.intake}/v1/work-queue", headers=staff.hospital)
    )
    assert [(i["encounter_key"], i["items"][0]["code"]) for i in queue] == [
        (not_insured["encounter_key"], "CO-31")
    ]
