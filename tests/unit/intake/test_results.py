"""What goes back to hospitals: webhook signatures and retries, NDJSON error lines, and the
coded encounter as valid FHIR without PHI or CPT descriptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class

from services.intake.domain.fhir_readback import (
    EncounterRecord,
    claim_resource,
    encounter_resource,
    explanation_of_benefit,
)
from services.intake.domain.ndjson import issue_line_errors, native_document
from services.intake.domain.outcome import Issue
from services.intake.domain.webhooks import retry_delay, signature, verify
from shared.events.intake import EncounterDocument

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())


def test_a_signature_verifies_only_for_its_secret_body_and_time() -> None:
    header = signature("whsec_1", 1_800_000_000, b'{"a":1}')

    assert verify("whsec_1", header, b'{"a":1}', now=1_800_000_100)
    assert not verify("whsec_2", header, b'{"a":1}', now=1_800_000_100)
    assert not verify("whsec_1", header, b'{"a":2}', now=1_800_000_100)
    assert not verify("whsec_1", header, b'{"a":1}', now=1_800_000_400)  # replayed too late
    assert not verify("whsec_1", "v1=abc", b'{"a":1}', now=1_800_000_000)


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    assert [retry_delay(n, 2, 60) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_a_fhir_resource_in_a_native_file_is_named_as_such() -> None:
    errors = native_document(7, '{"resourceType": "Patient", "id": "x"}')

    assert isinstance(errors, list)
    assert [(e.line, e.field) for e in errors] == [(7, "resourceType")]


def test_issues_of_collection_entries_map_back_to_their_lines() -> None:
    issues = [
        Issue("not-found", "Bundle.entry[1].resource.subject", "broken"),
        Issue("required", "Bundle.entry[0].resource", "no note"),
    ]

    errors = issue_line_errors(issues, [4, 9])

    assert [(e.line, e.field) for e in errors] == [(9, "subject"), (4, "resource")]


def _record(index: int, **claim: str) -> EncounterRecord:
    item = DEMO["encounters"][index]
    return EncounterRecord(
        id="enc-1",
        status="claim_paid",
        document=EncounterDocument.model_validate(item["encounter"]),
        identifier=("urn:x", "V1"),
        received_at=datetime(2026, 9, 20, tzinfo=UTC),
        diagnoses=item["coding"]["diagnoses"],
        procedures=item["coding"]["procedures"],
        provider_name="Mercy General Hospital",
        provider_npi="1234567893",
        **claim,
    )


def test_a_paid_professional_encounter_reads_back_as_valid_fhir_without_phi() -> None:
    record = _record(0, claim_id="C1", claim_status="paid", claim_total="330.00",
                     claim_paid="280.50", claim_reason="paid less CO-45",
                     claim_pcn="CF0123456789ABCDEF")  # fmt: skip

    resources = {
        "Encounter": encounter_resource(record),
        "Claim": claim_resource(record),
        "ExplanationOfBenefit": explanation_of_benefit(record),
    }

    for kind, resource in resources.items():
        get_fhir_model_class(kind).model_validate(resource)
    text = json.dumps(resources)
    for phi in ("Maria", "Sample", "Elm St", "ACM100200301", "1968-04-12", "arthrocentesis"):
        assert phi not in text
    assert '"display"' not in json.dumps(resources["Claim"]["item"])  # no CPT descriptions
    claim = resources["Claim"]
    assert [i["productOrService"]["coding"][0]["code"] for i in claim["item"]] == ["99214", "20610"]
    assert [i["net"]["value"] for i in claim["item"]] == [185.0, 145.0]
    assert resources["ExplanationOfBenefit"]["payment"]["amount"]["value"] == 280.5
    for kind in ("Claim", "ExplanationOfBenefit"):  # the control number CLM01 / CLP01 carry
        assert resources[kind]["identifier"][0]["value"] == "CF0123456789ABCDEF"
    assert [d["condition"]["reference"] for d in resources["Encounter"]["diagnosis"]] == [
        "#dx1",
        "#dx2",
        "#dx3",
    ]


def test_an_inpatient_claim_reads_back_with_pcs_procedures_poa_and_revenue_lines() -> None:
    record = _record(4, claim_id="C2", claim_status="submitted", claim_total="5700.00")

    claim = claim_resource(record)
    eob = explanation_of_benefit(record)

    get_fhir_model_class("Claim").model_validate(claim)
    assert claim["procedure"][0]["procedureCodeableConcept"]["coding"][0]["code"] == "0BJ08ZZ"
    assert claim["diagnosis"][0]["onAdmission"]["coding"][0]["code"] == "Y"
    assert [i["revenue"]["coding"][0]["code"] for i in claim["item"]] == ["0120", "0250", "0300"]
    assert eob["outcome"] == "queued" and "payment" not in eob


def test_a_native_line_out_of_bounds_names_the_field_even_for_a_cross_field_rule() -> None:
    document = {**DEMO["encounters"][0]["encounter"], "service_date": "2026-09-15"}
    born_later = {**document, "patient": {**document["patient"], "birth_date": "2026-09-16"}}
    too_many = {**document, "charges": [{**document["charges"][0], "units": 10_000}]}

    errors = [native_document(n, json.dumps(d)) for n, d in ((3, born_later), (4, too_many))]

    assert [[(e.line, e.field) for e in found] for found in errors] == [  # type: ignore[union-attr]
        [(3, "patient.birth_date")],
        [(4, "charges[0].units")],
    ]


def test_a_reversed_payment_and_a_claim_that_never_reached_the_payer_read_back_as_such() -> None:
    reversed_ = _record(0, claim_id="C1", claim_status="reversed", claim_total="330.00",
                        claim_paid="0.00", claim_reason="payment reversed")  # fmt: skip
    never_sent = _record(0, claim_id="C2", claim_status="submission_failed", claim_total="330.00")

    withdrawn, failed = explanation_of_benefit(reversed_), explanation_of_benefit(never_sent)

    for eob in (withdrawn, failed):
        get_fhir_model_class("ExplanationOfBenefit").model_validate(eob)
    assert (withdrawn["status"], withdrawn["outcome"]) == ("cancelled", "complete")
    assert withdrawn["payment"]["amount"]["value"] == 0.0
    assert (failed["status"], failed["outcome"]) == ("active", "error")
    assert failed["disposition"].startswith("submission_failed")


def test_a_returned_encounter_reads_back_with_its_reason_code_and_without_the_note() -> None:
    record = _record(0, return_reason="documentation_incomplete")
    record.status, record.diagnoses, record.procedures = "returned", [], []

    encounter = encounter_resource(record)

    get_fhir_model_class("Encounter").model_validate(encounter)
    assert encounter["meta"]["tag"][0]["code"] == "returned"
    assert encounter["extension"] == [
        {"url": "urn:chartflow:return-reason", "valueCode": "documentation_incomplete"}
    ]
    assert "diagnosis" not in encounter
