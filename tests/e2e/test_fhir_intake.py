"""A hospital's FHIR history Bundle travels intake → coder → claim → payment, over HTTP only;
results come back as signed webhooks and as FHIR resources."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from deploy.demo.driver import Scenario
from services.intake.domain.webhooks import verify
from tests.conftest import REPO
from tests.webhook_receiver import Receiver, serve

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

FIXTURES = REPO / "tests/fixtures/fhir"
BUNDLE = json.loads((FIXTURES / "patient_history_transaction.json").read_text())
ANSWERS: dict[str, Any] = json.loads((FIXTURES / "coding_answers.json").read_text())
RULES = json.loads((FIXTURES / "intake_settings.json").read_text())
OFFICE_VISIT = next(iter(ANSWERS))  # its deliveries fail once each: the webhook retries
CLAIM_STEPS = ["built", "submitted", "accepted", "acknowledged", "paid"]


@pytest.fixture(scope="module", autouse=True)
def quick_webhook_retries() -> Iterator[None]:
    """The services of this module retry webhook deliveries after 0.3 s, 0.6 s…"""
    before = os.environ.get("WEBHOOK_RETRY_BASE_SECONDS")
    os.environ["WEBHOOK_RETRY_BASE_SECONDS"] = "0.3"
    yield
    if before is None:
        del os.environ["WEBHOOK_RETRY_BASE_SECONDS"]
    else:
        os.environ["WEBHOOK_RETRY_BASE_SECONDS"] = before


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    yield from serve()


@pytest.fixture(scope="module")
def history(platform: Scenario, receiver: Receiver) -> dict[str, Any]:
    """The rule and a webhook set up, the Bundle pushed once: what intake answered."""
    e, c = platform.endpoints, platform.client
    admin = {"Authorization": f"Bearer {e.admin_token}"}
    hospital_id = platform.data["hospital"]["id"]
    c.put(f"{e.intake}/v1/admin/hospitals/{hospital_id}/intake-settings", json=RULES,
          headers=admin).raise_for_status()  # fmt: skip
    receiver.fail = lambda body, attempt: (
        body["data"]["external_id"] == OFFICE_VISIT and attempt == 1
    )
    hook = c.post(
        f"{e.intake}/v1/webhooks",
        json={"url": receiver.url, "events": ["encounter.coded", "claim.status"]},
        headers={"X-API-Key": platform.hospital_key},
    ).json()
    answer = platform.push_fhir(BUNDLE)
    locations = [x["response"].get("location") for x in answer["entry"]]
    pushed = {}
    for location in filter(None, locations):
        view = platform.encounter(location.split("/")[1])
        pushed[view["external_id"]] = view
    platform.extra_codes.update(ANSWERS)
    return {"answer": answer, "pushed": pushed, "hook": hook}


def _task_charts(platform: Scenario, keys: set[str], timeout: float = 60) -> dict[str, Any]:
    """The charts coders see for these encounters, once their tasks reach a worklist."""
    e, c = platform.endpoints, platform.client
    deadline = time.monotonic() + timeout
    charts: dict[str, Any] = {}
    while set(charts) != keys and time.monotonic() < deadline:
        for key in platform.coder_keys.values():
            tasks = c.get(f"{e.coding}/v1/worklist", headers={"X-API-Key": key}).json()
            for task in tasks:
                if task["encounter_key"] in keys and task["encounter_key"] not in charts:
                    url = f"{e.coding}/v1/tasks/{task['id']}"
                    charts[task["encounter_key"]] = c.get(url, headers={"X-API-Key": key}).json()
        time.sleep(0.5)
    return charts


def test_the_contracted_encounters_of_a_history_are_accepted_and_reach_coders_with_notes(
    platform: Scenario, history: dict[str, Any]
) -> None:
    answer, pushed = history["answer"], history["pushed"]
    statuses = [x["response"]["status"] for x in answer["entry"]]

    assert answer["resourceType"] == "Bundle" and answer["type"] == "transaction-response"
    assert len(statuses) == len(BUNDLE["entry"])
    assert statuses.count("201 Created") == 3
    assert set(pushed) == set(ANSWERS)  # office visit, ED visit, inpatient stay of Sep 2026
    assert {v["encounter_class"] for v in pushed.values()} == {
        "professional",
        "emergency",
        "inpatient",
    }
    not_taken = [
        x["response"]["outcome"]["issue"][0]["diagnostics"]
        for x, resource in zip(
            answer["entry"], (b["resource"] for b in BUNDLE["entry"]), strict=True
        )
        if resource["resourceType"] == "Encounter" and x["response"]["status"] == "200 OK"
    ]
    assert (
        len(not_taken)
        == sum(1 for b in BUNDLE["entry"] if b["resource"]["resourceType"] == "Encounter") - 3
    )
    assert any("status is in-progress" in d for d in not_taken)
    assert any("service provider" in d for d in not_taken)
    assert any("class HH" in d for d in not_taken)

    keys = {v["encounter_key"] for v in pushed.values()}
    charts = _task_charts(platform, keys)
    assert set(charts) == keys
    texts = {k: " ".join(d["text"] for d in c["chart"]["documents"]) for k, c in charts.items()}
    by_ext = {v["external_id"]: texts[v["encounter_key"]] for v in pushed.values()}
    assert "arthrocentesis of the right knee performed" in by_ext[OFFICE_VISIT]
    assert "Diabetes mellitus type 2" in by_ext[OFFICE_VISIT]  # the record's Conditions
    assert any("no fracture" in t and "<p>" not in t for t in by_ext.values())  # HTML note as text
    assert all("Maria" not in t for t in texts.values())  # no name in the minimum-necessary chart


def test_they_end_as_paid_claims_and_a_resend_changes_nothing(
    platform: Scenario, history: dict[str, Any]
) -> None:
    views = platform.run_until_claimed(history["pushed"], timeout=120)
    for view in views.values():
        assert view["status"] == "claim_paid", view
        assert [s["status"] for s in view["claim"]["history"]] == CLAIM_STEPS

    again = platform.push_fhir(BUNDLE)

    first = [x["response"].get("location") for x in history["answer"]["entry"]]
    assert [x["response"].get("location") for x in again["entry"]] == first
    assert "201 Created" not in {x["response"]["status"] for x in again["entry"]}
    assert platform.code_worklists() == 0
    for view in views.values():
        assert len(platform.claims_for(view["encounter_key"])) == 1


def test_the_coded_encounter_claim_and_payment_read_back_as_fhir(
    platform: Scenario, history: dict[str, Any]
) -> None:
    views = platform.run_until_claimed(history["pushed"], timeout=120)
    e, c = platform.endpoints, platform.client
    headers = {"X-API-Key": platform.hospital_key}
    for external_id, view in views.items():
        encounter = c.get(f"{e.intake}/fhir/Encounter/{view['id']}", headers=headers)
        claims = c.get(f"{e.intake}/fhir/Claim", params={"encounter": view["id"]}, headers=headers)
        eobs = c.get(f"{e.intake}/fhir/ExplanationOfBenefit", params={"encounter": view["id"]},
                     headers=headers)  # fmt: skip

        assert encounter.headers["content-type"] == "application/fhir+json"
        resource = get_fhir_model_class("Encounter").model_validate(encounter.json())
        assert resource.identifier[0].value == external_id
        coded = [d["code"] for d in ANSWERS[external_id]["diagnoses"]]
        assert [x.code.coding[0].code for x in resource.contained] == coded
        claim = get_fhir_model_class("Claim").model_validate(claims.json()["entry"][0]["resource"])
        assert claim.id == view["claim"]["claim_id"]
        assert Decimal(str(claim.total.value)) == Decimal(view["claim"]["total_charge"])
        eob = get_fhir_model_class("ExplanationOfBenefit").model_validate(
            eobs.json()["entry"][0]["resource"]
        )
        assert eob.outcome == "complete"
        assert Decimal(str(eob.payment.amount.value)) == Decimal(view["claim"]["paid"])


def test_the_hospital_receives_signed_webhooks_in_order_retried_when_they_fail(
    platform: Scenario, history: dict[str, Any], receiver: Receiver
) -> None:
    views = platform.run_until_claimed(history["pushed"], timeout=120)
    expected = ["coded", *CLAIM_STEPS]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivered = [r.json for r in receiver.delivered()]
        steps = {
            v["id"]: [d["data"].get("claim_status", "coded") for d in delivered
                      if d["data"]["encounter_id"] == v["id"]]
            for v in views.values()
        }  # fmt: skip
        if all(s == expected for s in steps.values()):
            break
        time.sleep(0.5)

    assert all(s == expected for s in steps.values()), steps
    secret = history["hook"]["secret"]
    for call in receiver.calls:
        assert verify(secret, call.headers["Chartflow-Signature"], call.body)
        assert set(call.json["data"]) <= {"encounter_id", "external_id", "status", "claim_id",
                                          "claim_status"}  # fmt: skip
    office = views[OFFICE_VISIT]["id"]
    retried = [c for c in receiver.calls if c.json["data"]["encounter_id"] == office]
    assert [c.status for c in retried] == [500, 200] * len(expected)
    deliveries = platform.client.get(
        f"{platform.endpoints.intake}/v1/webhooks/{history['hook']['id']}/deliveries",
        headers={"X-API-Key": platform.hospital_key},
    ).json()
    office_attempts = [[a["status_code"] for a in d["attempts"]] for d in deliveries
                       if d["encounter_id"] == office]  # fmt: skip
    assert office_attempts == [[500, 200]] * len(expected)
