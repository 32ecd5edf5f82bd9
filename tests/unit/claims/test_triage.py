"""Denial triage from the simulator's real 835 / 277CA, scenarios per claim, corrected claims."""

from __future__ import annotations

import csv
import dataclasses
from datetime import datetime

import pytest

from services.claims.domain import (
    Claim,
    InMemoryControlNumbers,
    build_837,
    check_claim,
    read_277ca,
    read_835,
    read_999,
    validate_x12,
)
from services.claims.domain.triage import (
    TABLE,
    Cause,
    TriageTable,
    triage_ack,
    triage_payment,
    triage_table,
)
from services.claims.payer_sim import Adjudication, PayerSimulator, read_837

from .conftest import WHEN

ANSWERED = datetime(2026, 3, 24, 8, 0)


def _answer(claims: list[Claim], scenarios: list[dict]) -> tuple[str, object]:
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    answers = PayerSimulator(Adjudication.from_dict({"scenarios": scenarios})).receive(
        text, ANSWERED
    )
    for response in (answers.ack_999, answers.ack_277ca, answers.remit_835):
        if response:
            ok, errors = validate_x12(response)
            assert ok, errors[:3]
    return text, answers


def test_the_table_reads_whole_with_its_sources() -> None:
    with TABLE.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert rows and all(r["source"].startswith("X12") for r in rows)
    assert {r["cause"] for r in rows} == {"coding", "billing", "payer"}
    assert len(triage_table().rules) == len(rows)  # no row hides another


@pytest.mark.parametrize(
    ("group", "carc", "remarks", "cause"),
    [
        ("CO", "11", (), Cause.CODING),  # diagnosis inconsistent with procedure
        ("CO", "4", (), Cause.CODING),  # modifier
        ("CO", "5", (), Cause.CODING),  # place of service
        ("CO", "6", (), Cause.CODING),  # age
        ("CO", "181", (), Cause.CODING),  # invalid procedure code
        ("CO", "182", (), Cause.CODING),  # invalid modifier
        ("CO", "16", ("M76",), Cause.CODING),  # lacks information: the diagnosis
        ("CO", "16", ("N382",), Cause.BILLING),  # lacks information: the patient's id
        ("CO", "16", (), Cause.BILLING),
        ("CO", "31", (), Cause.BILLING),  # not our insured
        ("CO", "27", (), Cause.BILLING),  # coverage terminated
        ("OA", "22", (), Cause.BILLING),  # coordination of benefits
        ("CO", "45", (), Cause.PAYER),  # fee schedule
        ("CO", "253", (), Cause.PAYER),  # sequestration
        ("PR", "11", (), Cause.PAYER),  # the patient's share, whatever the reason
        ("PR", "1", (), Cause.PAYER),
        ("CO", "9999", (), Cause.BILLING),  # not in the table: a person looks
    ],
)
def test_adjustments_by_cause(group: str, carc: str, remarks: tuple[str, ...], cause) -> None:
    assert triage_table().adjustment(group, carc, remarks).cause is cause


def test_a_co11_denial_names_its_lines_and_their_codes(example_claims) -> None:
    claim = next(c for c in example_claims if len(c.lines) >= 2 and c.lines[0].procedure_code)
    _, answers = _answer(
        [claim],
        [
            {
                "match": {"procedure": claim.lines[1].procedure_code},
                "action": "deny",
                "carc": "11",
                "lines": [2],
                "rarcs": ["M76"],
            }
        ],
    )
    (payment,) = read_835(answers.remit_835)[0].claims
    items = triage_payment(payment, claim)
    coding = [t for t in items if t.cause is Cause.CODING]
    assert [t.code for t in coding] == ["CO-11"]
    (line,) = coding[0].lines
    assert (line.number, line.line_id) == (2, claim.lines[1].line_id)
    assert line.procedure_code == claim.lines[1].procedure_code
    assert coding[0].rarcs == ("M76",)
    assert coding[0].amount == claim.lines[1].charge


def test_co16_with_a_diagnosis_remark_is_the_coders(example_claims) -> None:
    claim = example_claims[0]
    _, answers = _answer([claim], [{"action": "deny", "carc": "16", "rarcs": ["MA63"]}])
    (payment,) = read_835(answers.remit_835)[0].claims
    (item,) = triage_payment(payment, claim)
    assert (item.cause, item.code) == (Cause.CODING, "CO-16 MA63")
    assert len(item.lines) == len(claim.lines)


def test_contractual_and_registration_adjustments_are_not_coding(example_claims) -> None:
    reduced, denied = example_claims[0], example_claims[1]
    _, answers = _answer(
        [reduced, denied],
        [
            {
                "match": {"patient_control_number": reduced.patient_control_number},
                "action": "pay_partially",
                "percent": 15,
            },
            {
                "match": {"patient_control_number": denied.patient_control_number},
                "action": "deny",
                "carc": "31",
            },
        ],
    )
    payments = {p.patient_control_number: p for p in read_835(answers.remit_835)[0].claims}
    ours = {c.patient_control_number: c for c in (reduced, denied)}
    causes = {
        pcn: {(t.code, t.cause) for t in triage_payment(p, ours[pcn])}
        for pcn, p in payments.items()
    }
    assert causes[reduced.patient_control_number] == {("CO-45", Cause.PAYER)}
    assert causes[denied.patient_control_number] == {("CO-31", Cause.BILLING)}


def test_277ca_rejections_by_status_code(example_claims) -> None:
    coding, billing = example_claims[0], example_claims[1]
    _, answers = _answer(
        [coding, billing],
        [
            {
                "match": {"patient_control_number": coding.patient_control_number},
                "action": "reject_277ca",
                "status": "A7:255",
            },
            {
                "match": {"patient_control_number": billing.patient_control_number},
                "action": "reject_277ca",
                "status": "A7:33",
            },
        ],
    )
    verdicts = {
        a.patient_control_number: [(t.code, t.cause) for t in triage_ack(a)]
        for a in read_277ca(answers.ack_277ca)
    }
    assert verdicts[coding.patient_control_number] == [("A7:255", Cause.CODING)]
    assert verdicts[billing.patient_control_number] == [("A7:33", Cause.BILLING)]
    assert answers.remit_835 is None  # nothing accepted into adjudication


def test_a_scenario_by_member_id_rejects_the_batch_at_the_999(example_claims) -> None:
    first, second = example_claims[0], example_claims[1]
    _, answers = _answer(
        [first, second],
        [{"match": {"member_id": first.subscriber.member_id}, "action": "reject_999"}],
    )
    sets = [t for ack in read_999(answers.ack_999) for t in ack.transactions]
    assert sets and all(not t.accepted for t in sets)


def test_a_diagnosis_scenario_stops_matching_once_the_coder_changes_it(example_claims) -> None:
    claim = next(c for c in example_claims if c.claim_type.value == "professional")
    dx = claim.diagnoses[0].code
    rule = {"match": {"diagnosis": dx, "frequency": "1"}, "action": "deny", "carc": "11"}
    _, denied = _answer([claim], [rule])
    assert read_835(denied.remit_835)[0].claims[0].status_code == "4"
    corrected = dataclasses.replace(
        claim, frequency="7", original_reference=f"P{claim.patient_control_number}"
    )
    _, paid = _answer([corrected], [rule])
    assert read_835(paid.remit_835)[0].claims[0].paid == claim.total_charge


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_replacement_and_void_claims_carry_ref_f8_and_pass_pyx12(
    example_claims, frequency: str
) -> None:
    professional = next(c for c in example_claims if c.claim_type.value == "professional")
    institutional = next(c for c in example_claims if c.is_inpatient)
    claims = [
        dataclasses.replace(c, frequency=frequency, original_reference=f"ICN{n}2026")
        for n, c in enumerate((professional, institutional))
    ]
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    ok, errors = validate_x12(text)
    assert ok, errors[:3]
    inbound = {c.patient_control_number: c for c in read_837(text).claims}
    for n, c in enumerate(claims):
        assert inbound[c.patient_control_number].frequency == frequency
        assert inbound[c.patient_control_number].original_reference == f"ICN{n}2026"


def test_a_replacement_without_the_payers_number_is_held(example_claims) -> None:
    claim = dataclasses.replace(example_claims[0], frequency="7")
    rules = {f.rule.value for f in check_claim(claim, {})}
    assert "FREQUENCY_REFERENCE" in rules


def test_the_payer_acknowledges_a_void_and_pays_nothing_for_it(example_claims) -> None:
    claim = dataclasses.replace(example_claims[0], frequency="8", original_reference="ICN1")
    _, answers = _answer([claim], [])
    (ack,) = read_277ca(answers.ack_277ca)
    assert ack.accepted and answers.remit_835 is None


def test_an_unknown_scenario_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario action"):
        Adjudication.from_dict({"scenarios": [{"action": "lose"}]})
    with pytest.raises(ValueError, match="CARC"):
        Adjudication.from_dict({"scenarios": [{"action": "deny"}]})


def test_a_table_of_my_own(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "# comment\nkind,code,remark,cause,meaning,source\ncarc,45,,coding,x,X12 CARC list 139\n"
    )
    assert TriageTable.read(path).adjustment("CO", "45").cause is Cause.CODING
