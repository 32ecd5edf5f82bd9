"""FHIR resources read as encounter documents: the choices a hospital would notice."""

from __future__ import annotations

import base64
import copy
import json
import random
from typing import Any

import pytest

from services.intake.domain.fhir_mapping import read_bundle, read_encounter
from services.intake.domain.outcome import FhirError
from services.intake.domain.rules import HospitalIntakeSettings
from tests.conftest import REPO
from tests.fixtures.fhir import make_bundles as fx

FIXTURES = REPO / "tests/fixtures/fhir"
HISTORY = json.loads((FIXTURES / "patient_history_transaction.json").read_text())
RULES = HospitalIntakeSettings.model_validate_json((FIXTURES / "intake_settings.json").read_text())


def _one_visit(**changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A batch with one office visit of Leo (a child on his mother's plan), and its Encounter."""
    leo = fx.patient("leo", "Leo", "Sample", "2016-06-01", "male")
    mother = {
        "resourceType": "RelatedPerson",
        "id": "mother",
        "patient": fx._ref(leo),
        "name": [{"family": "Sample", "given": ["Maria"]}],
        "birthDate": "1968-04-12",
        "gender": "female",
        "address": copy.deepcopy(leo["address"]),
    }
    coverage = fx.coverage(
        leo,
        {"reference": "Organization?identifier=urn:payer|ACMEHLTH"},
        "ACM100200301",
        "2026-01-01",
    )
    coverage["relationship"]["coding"][0]["code"] = "child"
    coverage["subscriber"] = {"reference": "RelatedPerson/mother"}
    visit = fx.encounter(
        "leo-visit", leo, "AMB", "2026-09-15T09:00:00-05:00", "2026-09-15T09:20:00-05:00"
    )
    resources = [leo, mother, coverage, visit, fx.note(visit, leo, "11506-3", "Sore throat.")]
    resources.append(fx.charge(visit, leo, "125.00", cpt="99213"))
    visit.update(changes)
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [fx._entry(r) for r in resources]}
    return bundle, visit


def test_only_the_encounters_the_hospital_contracted_for_are_taken() -> None:
    read = read_bundle(HISTORY, RULES)

    taken = [m for m in read.encounters if m.refusal is None]
    refusals = {m.refusal for m in read.encounters if m.refusal}

    assert [m.document.encounter_class for m in taken if m.document] == [
        "professional",
        "emergency",
        "inpatient",
    ]
    assert read.errors() == []
    assert "status is in-progress, not finished" in refusals
    assert "class HH is not among the accepted classes" in refusals
    assert "service provider is not among the accepted ones" in refusals
    assert "period starts before 2026-09-01" in refusals


def test_the_coverage_in_force_on_the_day_is_used_and_named_payers_resolve() -> None:
    read = read_bundle(HISTORY, RULES)
    office = next(m.document for m in read.encounters if m.document)

    assert office.coverage.payer_id == "ACMEHLTH"  # not the plan that ended in 2023
    assert office.coverage.member_id == "ACM100200301"
    assert office.providers[0].npi == fx.npi(111222333)


def test_a_child_is_billed_under_the_subscriber_of_a_conditionally_named_payer() -> None:
    bundle, _ = _one_visit()
    settings = HospitalIntakeSettings(payers={"ACMEHLTH": "Acme Health Plan"})

    document = read_bundle(bundle, settings).encounters[0].document

    assert document is not None
    assert document.coverage.payer_name == "Acme Health Plan"  # what the hospital registered
    assert document.coverage.relationship == "child"
    assert document.coverage.subscriber is not None
    assert document.coverage.subscriber.first_name == "Maria"
    assert (document.place_of_service, document.encounter_class) == ("11", "professional")
    assert [(c.code, str(c.charge)) for c in document.charges] == [("99213", "125.00")]


def test_a_practitioner_named_by_npi_alone_is_an_npi_and_a_virtual_visit_is_telehealth() -> None:
    bundle, visit = _one_visit()
    visit["class"]["code"] = "VR"

    document = read_bundle(bundle, HospitalIntakeSettings()).encounters[0].document

    assert document is not None
    assert document.providers[0].npi == fx.npi(111222333)
    assert document.place_of_service == "02"


def test_claim_lines_are_the_charges_when_there_is_no_charge_item() -> None:
    bundle, visit = _one_visit()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "ChargeItem"]
    leo = bundle["entry"][0]["resource"]
    claim = fx.synthea_claim(visit, leo, bundle["entry"][2]["resource"])
    claim["item"].append(
        {
            "sequence": 2,
            "productOrService": {"coding": [{"system": fx.CPT, "code": "87880"}]},
            "net": {"value": 35, "currency": "USD"},
            "encounter": [fx._ref(visit)],
        }
    )
    bundle["entry"].append(fx._entry(claim))

    document = read_bundle(bundle, HospitalIntakeSettings()).encounters[0].document

    assert document is not None
    assert [(c.code, str(c.charge)) for c in document.charges] == [("87880", "35.00")]


def test_notes_come_from_inline_text_attachments_and_others_are_warned_about() -> None:
    bundle, visit = _one_visit()
    leo = bundle["entry"][0]["resource"]
    pdf = fx.note(visit, leo, "34117-2", "pdf")
    pdf["content"][0]["attachment"] = {"contentType": "application/pdf", "data": "JVBERi0="}
    linked = fx.note(visit, leo, "18842-5", "elsewhere")
    linked["content"][0]["attachment"] = {"contentType": "text/plain", "url": "https://ehr/doc/1"}
    html = fx.note(visit, leo, "11488-4", "x")
    html["content"][0]["attachment"]["contentType"] = "text/html"
    html["content"][0]["attachment"]["data"] = base64.b64encode(
        b"<div>Consult<script>x()</script><p>Tonsils &amp; throat</p></div>"
    ).decode()
    bundle["entry"] += [fx._entry(pdf), fx._entry(linked), fx._entry(html)]

    mapped = read_bundle(bundle, HospitalIntakeSettings()).encounters[0]

    assert mapped.document is not None
    assert [(d.kind, d.text) for d in mapped.document.documents] == [
        ("progress_note", "Sore throat."),
        ("consult_note", "Consult\nTonsils & throat"),
    ]
    warnings = [i for i in mapped.issues if i.severity == "warning"]
    assert [i.expression.rsplit(".", 2)[-2:] for i in warnings] == [
        ["content[0]", "attachment"],
        ["content[0]", "attachment"],
    ]
    assert "application/pdf" in warnings[0].diagnostics
    assert "does not fetch" in warnings[1].diagnostics


@pytest.mark.parametrize(
    ("change", "expression", "code"),
    [
        ({"identifier": []}, "identifier", "required"),
        ({"period": {"start": "2026-13-45"}}, "period.start", "invalid"),
        ({"participant": []}, "participant", "required"),
        ({"subject": {"reference": "Patient/nobody"}}, "subject", "not-found"),
    ],
)
def test_problems_name_the_element(change: dict[str, Any], expression: str, code: str) -> None:
    bundle, _ = _one_visit(**change)

    read = read_bundle(bundle, HospitalIntakeSettings())

    issues = [i for i in read.errors() if i.code == code]
    assert [i.expression for i in issues] == [f"Bundle.entry[3].resource.{expression}"]
    assert read.encounters[0].document is None


def test_a_patient_value_that_cannot_be_billed_is_named_at_its_fhir_element() -> None:
    bundle, _ = _one_visit()
    bundle["entry"][0]["resource"]["address"][0]["postalCode"] = "6270"

    read = read_bundle(bundle, HospitalIntakeSettings())

    assert [(i.expression, i.code) for i in read.errors()] == [
        ("Bundle.entry[0].resource.address[0].postalCode", "invalid")
    ]
    assert "6270" not in read.errors()[0].diagnostics  # the value is PHI: never echoed


def test_resources_chartflow_does_not_use_are_not_errors() -> None:
    bundle, visit = _one_visit()
    leo = bundle["entry"][0]["resource"]
    odd = {"resourceType": "Observation", "status": "final", "valueQuantity": {"value": "x"}}
    bundle["entry"] += [fx._entry({**r}) for r in fx.context_resources(visit, leo)]
    bundle["entry"].append({"resource": odd, "request": {"method": "POST", "url": "Observation"}})

    read = read_bundle(bundle, HospitalIntakeSettings())

    assert read.errors() == []
    assert read.encounters[0].document is not None


def test_what_is_not_a_bundle_is_refused_whole() -> None:
    with pytest.raises(FhirError) as not_bundle:
        read_bundle({"resourceType": "Patient"}, HospitalIntakeSettings())
    with pytest.raises(FhirError) as history:
        read_bundle({"resourceType": "Bundle", "type": "history"}, HospitalIntakeSettings())
    with pytest.raises(FhirError):
        read_encounter([], HospitalIntakeSettings())

    assert not_bundle.value.issues[0].expression == "Bundle"
    assert history.value.issues[0].expression == "Bundle.type"


def test_the_inpatient_stay_carries_nubc_codes() -> None:
    stay = next(
        m.document
        for m in read_bundle(copy.deepcopy(HISTORY), RULES).encounters
        if m.document and m.document.encounter_class == "inpatient"
    )

    assert stay.admission is not None
    assert stay.admission.model_dump() == {
        "type": "1",
        "source": "1",
        "hour": "1430",
        "discharge_status": "01",
        "discharge_hour": "1100",
    }
    assert (str(stay.service_date), str(stay.discharge_date)) == ("2026-09-20", "2026-09-23")
    assert stay.documents[-1].kind == "documented_procedures"


ODD_VALUES = [
    None,
    1,
    "x",
    [],
    {},
    [1],
    {"a": 1},
    True,
    "2026-02-31",
    -5,
    1.5,
    [{"reference": 3}],
    {"reference": "#"},
    [None],
    {"reference": "Organization?x=1"},
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    return [p for key, child in items for p in [(*path, key), *_paths(child, (*path, key))]]


def test_any_malformed_bundle_gets_issues_never_an_exception() -> None:
    bundle, _ = _one_visit()
    paths = _paths(bundle)
    rng = random.Random(12)
    for _ in range(500):
        broken = copy.deepcopy(bundle)
        for _ in range(rng.randint(1, 3)):
            *parents, last = rng.choice(paths)
            target = broken
            try:
                for key in parents:
                    target = target[key]
                target[last] = rng.choice(ODD_VALUES)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier change replaced a parent
        try:
            read = read_bundle(broken, HospitalIntakeSettings())
        except FhirError:
            continue
        assert all(m.document is not None or m.failed or m.refusal for m in read.encounters)


def test_a_charge_or_note_that_cannot_be_billed_is_named_at_its_resource() -> None:
    bundle, _ = _one_visit()
    bundle["entry"][5]["resource"]["priceOverride"]["value"] = -125
    note = bundle["entry"][4]["resource"]["content"][0]["attachment"]
    note["data"] = base64.b64encode(b"x" * 200_001).decode()

    read = read_bundle(bundle, HospitalIntakeSettings())

    assert sorted(i.expression for i in read.errors()) == [
        "Bundle.entry[4].resource.content[0].attachment",
        "Bundle.entry[5].resource.priceOverride",
    ]


def _patient(bundle: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        (lambda b: _patient(b).update(birthDate="2026-09-16"), "entry[0].resource.birthDate"),
        (lambda b: _patient(b).update(birthDate="1899-12-31"), "entry[0].resource.birthDate"),
        (
            lambda b: b["entry"][1]["resource"].update(birthDate="2026-09-16"),
            "entry[1].resource.birthDate",
        ),
        (
            lambda b: b["entry"][3]["resource"].update(period={"start": "2099-01-01"}),
            "entry[3].resource.period.start",
        ),
        (
            lambda b: _patient(b)["name"][0].update(family="Sam*ple"),
            "entry[0].resource.name[0].family",
        ),
        (
            lambda b: _patient(b)["name"][0].update(given=["Le\x01o"]),
            "entry[0].resource.name[0].given[0]",
        ),
        (
            lambda b: _patient(b)["address"][0].update(line=["1 Main~St"]),
            "entry[0].resource.address[0].line[0]",
        ),
        (
            lambda b: b["entry"][5]["resource"].update(quantity={"value": 10_000}),
            "entry[5].resource.quantity",
        ),
        (
            lambda b: b["entry"][5]["resource"]["priceOverride"].update(value=10_000_000),
            "entry[5].resource.priceOverride",
        ),
    ],
)
def test_a_value_coding_or_billing_could_not_use_is_an_issue_at_its_element(
    change: Any, expression: str
) -> None:
    """Intake's bounds (dates 1900 to today, birth before service, units, charges, no control
    characters or X12 separators in names and addresses) name the FHIR element."""
    bundle, _ = _one_visit()
    change(bundle)

    read = read_bundle(bundle, HospitalIntakeSettings())

    assert [i.expression for i in read.errors()] == [f"Bundle.{expression}"]
    assert read.encounters[0].document is None
