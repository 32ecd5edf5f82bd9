"""Service use cases that need no infrastructure: minimum necessary PHI, claim documents."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from services.claims.documents import coded_document, patient_control_number
from services.claims.domain import claim_from_coded_encounter
from shared.events.assignment import CodingChart, EncounterCoded
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.intake import BillingProvider, EncounterDocument

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())


def _coded(index: int) -> EncounterCoded:
    item = DEMO["encounters"][index]
    return EncounterCoded(
        encounter_key=f"h:{item['encounter']['external_id']}",
        hospital_id="h",
        billing_provider=BillingProvider.model_validate(
            {k: DEMO["hospital"][k] for k in ("name", "npi", "tax_id", "address")}
        ),
        encounter=EncounterDocument.model_validate(item["encounter"]),
        diagnoses=[DiagnosisCode.model_validate(d) for d in item["coding"]["diagnoses"]],
        procedures=[ProcedureCode.model_validate(p) for p in item["coding"]["procedures"]],
        coder_id="c1",
    )


def test_coders_see_age_and_sex_but_no_identifiers() -> None:
    document = EncounterDocument.model_validate(DEMO["encounters"][0]["encounter"])

    chart = CodingChart.of(document).model_dump(mode="json")

    assert chart["patient"] == {"sex": "F", "age": 58}
    text = json.dumps(chart)
    for secret in ("Maria", "Sample", "12 Elm St", "ACM100200301", "1968-04-12"):
        assert secret not in text
    assert chart["documents"] == [d.model_dump() for d in document.documents]
    assert chart["charges"] == [c.model_dump(mode="json") for c in document.charges]


def test_patient_control_number_is_deterministic_per_encounter_version() -> None:
    first = patient_control_number("h:E1", 1)
    assert first == patient_control_number("h:E1", 1)
    assert first != patient_control_number("h:E1", 2)
    assert len(first) <= 20


def test_professional_claim_prices_lines_from_the_chargemaster() -> None:
    claim = claim_from_coded_encounter(coded_document(_coded(0), "PCN1"))

    assert [(ln.procedure_code, ln.modifiers, str(ln.charge)) for ln in claim.lines] == [
        ("99214", ("25",), "185.00"),
        ("20610", ("RT",), "145.00"),
    ]
    assert str(claim.total_charge) == "330.00"


def test_child_patient_is_billed_under_the_subscriber() -> None:
    claim = claim_from_coded_encounter(coded_document(_coded(1), "PCN2"))

    assert claim.patient is not None
    assert claim.patient.first_name == "Leo"
    assert claim.subscriber.first_name == "Maria"


def test_inpatient_claim_carries_revenue_lines_pcs_procedures_and_poa() -> None:
    claim = claim_from_coded_encounter(coded_document(_coded(4), "PCN3"))

    assert [ln.revenue_code for ln in claim.lines] == ["0120", "0250", "0300"]
    assert [p.code for p in claim.procedures] == ["0BJ08ZZ"]
    assert all(d.poa == "Y" for d in claim.diagnoses)
    assert claim.inpatient is not None
    assert claim.inpatient.discharge_status == "01"


def test_coded_units_are_priced_at_the_chargemaster_rate_in_cents() -> None:
    coded = _coded(0)
    coded.encounter.charges[0].charge, coded.encounter.charges[0].units = Decimal("100.00"), 3
    coded.procedures[0].units = 2

    claim = claim_from_coded_encounter(coded_document(coded, "PCN4"))

    assert claim.lines[0].charge == Decimal("66.67")


def test_an_exempt_inpatient_diagnosis_without_poa_is_billed_as_exempt() -> None:
    coded = _coded(4)
    coded.diagnoses.append(DiagnosisCode(code="Z79.84"))  # POA-exempt (Z79), left blank

    document = coded_document(coded, "PCN5")

    assert document["diagnoses"][-1] == {"code": "Z79.84", "poa": "1"}
