from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.claims.domain import (
    Claim,
    ClaimType,
    Diagnosis,
    InMemoryControlNumbers,
    PayerConfig,
    Rule,
    Severity,
    build_837,
    held_claims,
    scrub,
)
from services.claims.domain.model import Clinician

from .conftest import WHEN


def _line(claim: Claim, **changes) -> Claim:
    return replace(claim, lines=(replace(claim.lines[0], **changes), *claim.lines[1:]))


def _rules_for(claim: Claim, **kwargs) -> set[Rule]:
    text = build_837([claim], InMemoryControlNumbers(), "S", "R", WHEN)
    return {f.rule for f in scrub(text, [claim], validate=False, **kwargs)}


BROKEN = {
    Rule.DX_MISSING: lambda c: replace(c, diagnoses=()),
    Rule.DX_TOO_MANY: lambda c: replace(c, diagnoses=(Diagnosis("E11.9"),) * 13),
    Rule.DX_INVALID: lambda c: replace(c, diagnoses=(Diagnosis("E11.99X"), *c.diagnoses[1:])),
    Rule.DX_NOT_BILLABLE: lambda c: replace(c, diagnoses=(Diagnosis("E11"), *c.diagnoses[1:])),
    Rule.DX_POINTER: lambda c: _line(c, dx_pointers=(len(c.diagnoses) + 1,)),
    Rule.NPI_CHECK_DIGIT: lambda c: replace(
        c, billing_provider=replace(c.billing_provider, npi="1234567890")
    ),
    Rule.TOTAL_CHARGE: lambda c: replace(c, total_charge=c.total_charge + Decimal("0.01")),
    Rule.NO_SERVICE_LINES: lambda c: replace(c, lines=()),
    Rule.LINE_CODE: lambda c: _line(c, procedure_code=""),
    Rule.DATE_ORDER: lambda c: _line(c, service_date=c.statement_from - timedelta(days=1)),
}


@pytest.mark.parametrize("rule", list(BROKEN), ids=str)
def test_each_professional_rule_catches_its_broken_claim(professional, rule) -> None:
    assert _rules_for(professional) == set()
    assert rule in _rules_for(BROKEN[rule](professional))


def test_rendering_npi_check_digit(professional) -> None:
    bad = replace(professional, rendering=Clinician("1245319598", "DOE", "JO"))
    assert Rule.NPI_CHECK_DIGIT in _rules_for(bad)


def test_inpatient_diagnoses_need_poa(inpatient) -> None:
    assert _rules_for(inpatient) == set()
    no_poa = replace(
        inpatient, diagnoses=(replace(inpatient.diagnoses[0], poa=""), *inpatient.diagnoses[1:])
    )
    assert Rule.POA_MISSING in _rules_for(no_poa)


def test_inpatient_limits_and_dates(inpatient) -> None:
    assert Rule.DX_TOO_MANY in _rules_for(replace(inpatient, diagnoses=inpatient.diagnoses * 7))
    late_pcs = replace(
        inpatient, procedures=(replace(inpatient.procedures[0], performed_on=date(2026, 12, 1)),)
    )
    assert Rule.DATE_ORDER in _rules_for(late_pcs)
    assert Rule.LINE_CODE in _rules_for(_line(inpatient, revenue_code=""))


def test_diagnosis_outside_the_loaded_release_is_a_warning(professional) -> None:
    old = replace(
        professional,
        statement_from=date(2019, 5, 1),
        statement_to=date(2019, 5, 1),
        lines=tuple(replace(ln, service_date=date(2019, 5, 1)) for ln in professional.lines),
    )
    text = build_837([old], InMemoryControlNumbers(), "S", "R", WHEN)
    findings = [f for f in scrub(text, [old], validate=False) if f.rule is Rule.DX_OUTSIDE_RELEASE]
    assert findings and all(f.severity is Severity.WARNING for f in findings)
    assert held_claims(findings) == set()


def test_payer_that_takes_only_837p_rejects_institutional(inpatient) -> None:
    payers = {
        inpatient.payer.payer_id: PayerConfig(
            inpatient.payer.payer_id, frozenset({ClaimType.PROFESSIONAL})
        )
    }
    assert Rule.PAYER_CLAIM_TYPE in _rules_for(inpatient, payers=payers)


def test_claim_missing_from_the_file(professional, inpatient) -> None:
    text = build_837([professional], InMemoryControlNumbers(), "S", "R", WHEN)
    findings = scrub(text, [professional, inpatient], validate=False)
    assert [(f.rule, f.patient_control_number) for f in findings] == [
        (Rule.CLAIM_NOT_IN_FILE, inpatient.patient_control_number)
    ]


def test_pyx12_errors_are_tied_to_the_claim_and_line_they_concern(example_claims) -> None:
    """One pyx12 run over the whole batch; each error lands on the right claim."""
    claims = example_claims[:6]
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    target, other = claims[2], claims[4]
    line_id = target.lines[0].line_id
    # a bad service date on a line, a stray segment in another claim: wrong SE count too
    head, tail = text.split(f"CLM*{target.patient_control_number}*", 1)
    tail = tail.replace("DTP*472*D8*2026", "DTP*472*D8*2026-", 1)
    text = f"{head}CLM*{target.patient_control_number}*{tail}"
    clm = f"CLM*{other.patient_control_number}*"
    head, tail = text.split(clm, 1)
    text = head + "NTE*XXX*?~" + clm + tail
    findings = scrub(text, claims)
    x12 = {
        (f.rule, f.patient_control_number, f.line_id)
        for f in findings
        if f.rule.name.startswith("X12")
    }
    assert (Rule.X12_ELEMENT, target.patient_control_number, line_id) in x12
    assert any(r is Rule.X12_SEGMENT and p == other.patient_control_number for r, p, _ in x12)
    assert any(r is Rule.X12_ENVELOPE for r, _, _ in x12)
    assert {p for _, p, _ in x12} <= {c.patient_control_number for c in claims}
    assert all(f.message for f in findings)
