from __future__ import annotations

from dataclasses import replace

from services.claims.domain import (
    ClaimType,
    Diagnosis,
    InMemoryControlNumbers,
    Separators,
    build_837,
    index_837,
    validate_x12,
)
from services.claims.domain.x12 import split_segments

from .conftest import WHEN


def test_control_numbers_and_date_come_from_the_caller(example_claims) -> None:
    control = InMemoryControlNumbers(interchange=41, group=7, transaction=99)
    text = build_837(example_claims, control, "CHARTFLOW", "RCV", WHEN)
    _, segs = split_segments(text)
    assert segs[0][13] == "000000042" and segs[0][9] == "260323" and segs[0][10] == "0900"
    assert [s[6] for s in segs if s[0] == "GS"] == ["8", "9"]
    assert [s[2] for s in segs if s[0] == "ST"] == ["0100", "0101"]
    assert segs[-1] == ["IEA", "2", "000000042"]
    again = build_837(example_claims, InMemoryControlNumbers(41, 7, 99), "CHARTFLOW", "RCV", WHEN)
    assert again == text


def test_custom_separators_stay_valid(example_claims) -> None:
    seps = Separators(element="|", sub_element=">", segment="\n", repetition="!")
    text = build_837(
        example_claims[:5], InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN, separators=seps
    )
    assert "|" in text and "~" not in text and "HC>" in text
    ok, errors = validate_x12(text)
    assert ok, errors[:3]


def test_claims_group_by_provider_and_subscriber_with_patient_loops(example_claims) -> None:
    prof = [c for c in example_claims if c.claim_type is ClaimType.PROFESSIONAL]
    text = build_837(prof, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    _, segs = split_segments(text)
    hls = [s for s in segs if s[0] == "HL"]
    providers = {c.billing_provider.npi for c in prof}
    assert sum(1 for h in hls if h[3] == "20") == len(providers)
    dependents = [c for c in prof if c.patient is not None]
    assert sum(1 for h in hls if h[3] == "23") == len(dependents) > 0
    # ICD codes go without the dot; every claim appears once, in one transaction set
    assert not any("." in s[1] for s in segs if s[0] == "HI")
    assert sorted(index_837(text).transactions[0].claims) == sorted(
        c.patient_control_number for c in prof
    )


def test_transactions_split_at_the_claim_limit(example_claims) -> None:
    prof = [c for c in example_claims if c.claim_type is ClaimType.PROFESSIONAL][:5]
    text = build_837(prof, InMemoryControlNumbers(), "S", "R", WHEN, max_claims_per_transaction=2)
    assert [len(t.claims) for t in index_837(text).transactions] == [2, 2, 1]


def test_institutional_claim_carries_poa_admitting_and_pcs(inpatient) -> None:
    text = build_837([inpatient], InMemoryControlNumbers(), "S", "R", WHEN)
    first = inpatient.diagnoses[0]
    assert f"HI*ABK:{first.code.replace('.', '')}:::::::{first.poa}~" in text
    assert "HI*ABJ:" in text and "HI*BBR:" in text and "CL1*" in text
    assert text.count("REF*6R*") == len(inpatient.lines)


def test_exempt_poa_and_external_causes_on_the_837i(example_claims, inpatient) -> None:
    exempt = Diagnosis("Z79.4", "1")
    external = Diagnosis("W19.XXXA", "Y")
    claim = replace(inpatient, diagnoses=(*inpatient.diagnoses[:2], exempt, external))
    outpatient = next(c for c in example_claims if c.claim_type is ClaimType.INSTITUTIONAL
                      and not c.is_inpatient)  # fmt: skip

    text = build_837([claim, outpatient], InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    ok, errors = validate_x12(text)

    assert ok, errors[:3]
    assert "ABF:Z794~" in text or "ABF:Z794*" in text  # exempt: the POA element is left blank
    assert "Z794:::::::1" not in text
    assert "HI*ABN:W19XXXA:::::::Y" in text
    assert f"HI*APR:{outpatient.diagnoses[0].code.replace('.', '')}" in text
    assert "CL1***01" not in text  # outpatient visits carry their priority and origin


def test_a_subscriber_with_more_than_100_claims_gets_another_hl(example_claims) -> None:
    prof = [c for c in example_claims if c.claim_type is ClaimType.PROFESSIONAL]
    self_paid = next(c for c in prof if c.patient is None)
    dependent = next(c for c in prof if c.patient is not None)
    claims = [
        replace(c, patient_control_number=f"{c.patient_control_number[:10]}{n:04d}")
        for c in (self_paid, dependent)
        for n in range(150)
    ]

    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)

    ok, errors = validate_x12(text)
    assert ok, errors[:3]
    _, segs = split_segments(text)
    assert sum(1 for s in segs if s[0] == "HL" and s[3] == "22") == 4  # 100 + 50, twice
    assert sum(1 for s in segs if s[0] == "HL" and s[3] == "23") == 2
