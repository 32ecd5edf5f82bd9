"""FHIR R4 intake against the real database: Bundles in the shape EHRs and Synthea produce."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from sqlmodel import func, select

from services.intake.app import create_app
from shared.events import topics
from shared.outbox import OutboxEvent
from tests.conftest import Stack
from tests.fixtures.fhir.make_bundles import large_bundle
from tests.integration.intake_app import FIXTURES, hospital_key, settings

pytestmark = [pytest.mark.postgres]

HISTORY = json.loads((FIXTURES / "patient_history_transaction.json").read_text())
ANSWERS = json.loads((FIXTURES / "coding_answers.json").read_text())
RULES = json.loads((FIXTURES / "intake_settings.json").read_text())
FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def intake(stack: Stack, unique: str, tmp_path: Path) -> Iterator[TestClient]:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    with TestClient(create_app(settings(stack, unique, tmp_path), frozenset({"api"}))) as client:
        yield client


def _post(client: TestClient, key: dict[str, str], body: Any, path: str = "/fhir/Bundle") -> Any:
    return client.post(path, content=json.dumps(body), headers={**key, **FHIR})


def _stored(client: TestClient, key: dict[str, str]) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = client.get("/v1/encounters", headers=key).json()
    return answer


def _outbox_rows(client: TestClient) -> int:
    """Encounters announced (reads add `access.log` events to the outbox too)."""
    topic = client.app.state.settings.topic(topics.ENCOUNTERS_RECEIVED)  # type: ignore[attr-defined]
    count = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic)
    return int(client.app.state.runtime.db.run_sync(lambda s: s.exec(count).one()))  # type: ignore[attr-defined]


def _index(bundle: dict[str, Any], kind: str, test: Any = lambda r: True) -> int:
    return next(
        n for n, e in enumerate(bundle["entry"])
        if e["resource"]["resourceType"] == kind and test(e["resource"])
    )  # fmt: skip


def _contracted(bundle: dict[str, Any], class_code: str) -> int:
    """The entry of the accepted encounter of this class (Sep 2026)."""
    return _index(
        bundle,
        "Encounter",
        lambda r: r["class"]["code"] == class_code and r["identifier"][0]["value"] in ANSWERS,
    )


def _note_of(bundle: dict[str, Any], encounter: int) -> int:
    url = bundle["entry"][encounter]["fullUrl"]
    return _index(
        bundle, "DocumentReference", lambda r: r["context"]["encounter"][0]["reference"] == url
    )


def test_a_history_transaction_stores_the_contracted_encounters_once(intake: TestClient) -> None:
    key = hospital_key(intake, **RULES)

    first = _post(intake, key, HISTORY)
    events = _outbox_rows(intake)
    again = _post(intake, key, HISTORY)

    assert first.status_code == 200
    assert first.headers["content-type"] == "application/fhir+json"
    bundle = get_fhir_model_class("Bundle").model_validate(first.json())
    assert bundle.type == "transaction-response"
    created = [e.response.location for e in bundle.entry if e.response.status == "201 Created"]
    assert len(created) == 3
    stored = _stored(intake, key)
    assert sorted(s["external_id"] for s in stored) == sorted(ANSWERS)
    assert {f"Encounter/{s['id']}" for s in stored} == set(created)
    assert events == 3
    # The resend: the same Locations, "200 OK", nothing new stored or announced.
    assert again.status_code == 200
    assert [e["response"].get("location") for e in again.json()["entry"]] == [
        e.response.location for e in bundle.entry
    ]
    assert "201 Created" not in {e["response"]["status"] for e in again.json()["entry"]}
    assert len(_stored(intake, key)) == 3
    assert _outbox_rows(intake) == events


def test_a_broken_reference_fails_the_transaction_with_an_outcome_naming_it(
    intake: TestClient,
) -> None:
    key = hospital_key(intake, **RULES)
    broken = copy.deepcopy(HISTORY)
    office = ANSWERS and next(iter(ANSWERS))
    n = _index(
        broken,
        "DocumentReference",
        lambda r: (
            "arthrocentesis" in json.dumps(r)
            or r["context"]["encounter"][0]["reference"] == "urn:uuid:" + office
        ),
    )
    broken["entry"][n]["resource"]["context"]["encounter"][0]["reference"] = "urn:uuid:gone"

    answer = _post(intake, key, broken)

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/fhir+json"
    outcome = get_fhir_model_class("OperationOutcome").model_validate(answer.json())
    issue = next(i for i in outcome.issue if i.code == "not-found")
    assert issue.expression == [f"Bundle.entry[{n}].resource.context.encounter[0]"]
    assert "urn:uuid:gone" in issue.diagnostics
    assert _stored(intake, key) == []


def test_a_batch_stores_the_good_encounters_and_names_what_is_wrong_with_the_others(
    intake: TestClient,
) -> None:
    key = hospital_key(intake, **RULES)
    batch = copy.deepcopy(HISTORY)
    batch["type"] = "batch"
    stay = _contracted(batch, "IMP")
    del batch["entry"][stay]["resource"]["hospitalization"]["dischargeDisposition"]
    ed = _contracted(batch, "EMER")
    participant = batch["entry"][ed]["resource"]["participant"][0]
    participant["individual"] = {"reference": "Practitioner/x"}

    answer = _post(intake, key, batch).json()

    statuses = {n: e["response"] for n, e in enumerate(answer["entry"])}
    assert answer["type"] == "batch-response"
    assert statuses[stay]["status"] == "422 Unprocessable Entity"
    stay_issue = statuses[stay]["outcome"]["issue"][0]
    assert stay_issue["expression"] == [
        f"Bundle.entry[{stay}].resource.hospitalization.dischargeDisposition"
    ]
    assert statuses[ed]["status"] == "400 Bad Request"
    assert [i["expression"] for i in statuses[ed]["outcome"]["issue"]] == [
        [f"Bundle.entry[{ed}].resource.participant[0].individual"]
    ]
    assert [s["encounter_class"] for s in _stored(intake, key)] == ["professional"]


def test_one_encounter_with_contained_parts_and_identifier_references(intake: TestClient) -> None:
    key = hospital_key(intake)
    encounter = {
        "resourceType": "Encounter",
        "identifier": [{"system": "urn:oid:1.2.3.4", "value": "V-77/2026"}],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "period": {"start": "2026-09-15T09:00:00-05:00", "end": "2026-09-15T09:20:00-05:00"},
        "subject": {"reference": "#p"},
        "participant": [
            {"individual": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1112223338"}}
        ],
        "contained": [
            {"resourceType": "Patient", "id": "p", "name": [{"family": "Sample", "given": ["Leo"]}],
             "gender": "male", "birthDate": "2016-06-01",
             "address": [{"line": ["12 Elm St"], "city": "Springfield", "state": "il",
                          "postalCode": "62704-1234"}]},
            {"resourceType": "Coverage", "id": "c", "status": "active", "subscriberId": "ACM1",
             "beneficiary": {"reference": "#p"},
             "payor": [{"identifier": {"system": "http://example.org/payer", "value": "ACMEHLTH"},
                        "display": "Acme"}]},
            {"resourceType": "DocumentReference", "id": "d", "status": "current",
             "content": [{"attachment": {"contentType": "text/plain", "data": "U29yZSB0aHJvYXQu"}}],
             "context": {"encounter": [{"reference": "#"}]}},
        ],
    }  # fmt: skip

    first = _post(intake, key, encounter, "/fhir/Encounter")
    again = _post(intake, key, encounter, "/fhir/Encounter")

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.headers["Location"] == again.headers["Location"]
    stored = _stored(intake, key)
    assert len(stored) == 1 and stored[0]["external_id"].startswith("fhir-")  # "/" does not fit
    read = intake.get(f"/fhir/{first.headers['Location']}", headers=key).json()
    assert read["identifier"] == [{"system": "urn:oid:1.2.3.4", "value": "V-77/2026"}]


def test_changed_content_under_the_same_identifier_is_a_conflict(intake: TestClient) -> None:
    key = hospital_key(intake, **RULES)
    _post(intake, key, HISTORY)
    bundle = copy.deepcopy(HISTORY)
    n = _note_of(bundle, _contracted(bundle, "EMER"))
    attachment = bundle["entry"][n]["resource"]["content"][0]["attachment"]
    attachment["data"] = base64.b64encode(b"<p>Left ankle sprain.</p>").decode()

    answer = _post(intake, key, bundle)

    assert answer.status_code == 409
    issue = answer.json()["issue"][0]
    assert issue["code"] == "conflict" and issue["expression"][0].endswith("resource.identifier")
    assert len(_stored(intake, key)) == 3


def test_a_5_mb_bundle_of_500_encounters_is_taken_whole(intake: TestClient) -> None:
    key = hospital_key(intake)
    body = json.dumps(large_bundle())

    answer = intake.post("/fhir/Bundle", content=body, headers={**key, **FHIR})

    assert len(body) > 4_500_000
    assert answer.status_code == 200
    assert sum(1 for e in answer.json()["entry"] if e["response"]["status"] == "201 Created") == 500


def test_errors_at_the_fhir_edge_are_operation_outcomes(intake: TestClient) -> None:
    key = hospital_key(intake)

    anonymous = intake.post("/fhir/Bundle", content=b"{}", headers=FHIR)
    not_json = intake.post("/fhir/Bundle", content=b"{nope", headers={**key, **FHIR})
    xml_type = {**key, "Content-Type": "application/fhir+xml"}
    xml = intake.post("/fhir/Bundle", content=b"<Bundle/>", headers=xml_type)
    not_a_bundle = _post(intake, key, {"resourceType": "Patient"})
    unknown = intake.get("/fhir/Encounter/nope", headers=key)

    expected = [(anonymous, 401), (not_json, 400), (xml, 415), (not_a_bundle, 400), (unknown, 404)]
    for answer, status in expected:
        assert answer.status_code == status
        assert answer.headers["content-type"] == "application/fhir+json"
        assert answer.json()["resourceType"] == "OperationOutcome"
        assert answer.json()["issue"][0]["expression"]


def test_the_capability_statement_says_what_the_endpoint_does(intake: TestClient) -> None:
    answer = intake.get("/fhir/metadata")

    statement = get_fhir_model_class("CapabilityStatement").model_validate(answer.json())
    assert answer.headers["content-type"] == "application/fhir+json"
    assert [r.type for r in statement.rest[0].resource] == [
        "Encounter",
        "Claim",
        "ExplanationOfBenefit",
    ]
