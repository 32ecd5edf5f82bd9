"""The checks pyx12 lacks, one claim at a time; messages name the element, not its value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Context, Decimal

from .codesets import DiagnosisCheck, check_diagnosis, npi_is_valid
from .findings import Finding, PayerConfig, Rule, Severity
from .model import (
    MAX_INSTITUTIONAL_DIAGNOSES,
    MAX_MODIFIERS,
    MAX_POINTERS,
    MAX_PROFESSIONAL_DIAGNOSES,
    Claim,
    ClaimType,
    ServiceLine,
)

# A line beyond these is a pricing or data-entry error, never a real bill: UB-04 and CMS-1500
# charge fields carry 9,999,999.99 at most; units of service beyond 99,999 do not occur.
MAX_LINE_CHARGE = Decimal("9999999.99")
MAX_UNITS = Decimal("99999")

_Add = Callable[..., None]
_POA_CODES = frozenset({"Y", "N", "U", "W", "1"})


def cents(amount: Decimal) -> Decimal:
    """Rounded to cents in a context as wide as the amount (absurd amounts do not raise)."""
    digits = max(28, amount.adjusted() + 4) if amount.is_finite() else 28
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP, Context(prec=digits))


def check_claim(claim: Claim, payers: Mapping[str, PayerConfig]) -> list[Finding]:
    out: list[Finding] = []
    pcn = claim.patient_control_number

    def add(
        rule: Rule, message: str, line_id: str = "", severity: Severity = Severity.ERROR
    ) -> None:
        out.append(Finding(rule, message, pcn, line_id, severity))

    config = payers.get(claim.payer.payer_id)
    if config is not None and claim.claim_type not in config.accepts:
        form = "837P" if claim.claim_type is ClaimType.PROFESSIONAL else "837I"
        add(Rule.PAYER_CLAIM_TYPE, f"{claim.payer.name} does not accept {form} claims.")

    _check_diagnoses(claim, add)
    _check_npis(claim, add)
    if claim.frequency in ("7", "8") and not claim.original_reference:
        kind = "replacement" if claim.frequency == "7" else "void"
        add(
            Rule.FREQUENCY_REFERENCE,
            f"A {kind} claim (CLM05-3 {claim.frequency}) needs the payer's claim control "
            "number of the claim it corrects (REF*F8).",
        )
    if not claim.lines:
        add(Rule.NO_SERVICE_LINES, "The claim has no service lines.")
    amounts_ok = all(_check_amounts(ln, add) for ln in claim.lines)
    # Compare what the 837 carries: amounts in cents, as CLM02 and SV102 / SV203 are written.
    line_total = sum((cents(ln.charge) for ln in claim.lines), Decimal(0))
    if amounts_ok and claim.lines and line_total != cents(claim.total_charge):
        add(
            Rule.TOTAL_CHARGE,
            f"Total charge (CLM02) {claim.total_charge} does not equal the sum of line charges "
            f"{line_total}.",
        )
    for ln in claim.lines:
        _check_line(claim, ln, add)
    _check_dates(claim, add)
    return out


def _check_amounts(ln: ServiceLine, add: _Add) -> bool:
    ok = True
    if not ln.charge.is_finite() or not 0 < ln.charge <= MAX_LINE_CHARGE:
        add(
            Rule.LINE_CHARGE,
            f"The line charge (SV102 / SV203) must be more than 0.00 and at most "
            f"{MAX_LINE_CHARGE}: check the chargemaster price and the units.",
            ln.line_id,
        )
        ok = False
    if not ln.units.is_finite() or not 0 < ln.units <= MAX_UNITS:
        add(
            Rule.LINE_UNITS,
            f"The units of service (SV104 / SV205) must be more than 0 and at most {MAX_UNITS}.",
            ln.line_id,
        )
        ok = False
    return ok


def _check_line(claim: Claim, ln: ServiceLine, add: _Add) -> None:
    if claim.claim_type is ClaimType.PROFESSIONAL:
        if not ln.procedure_code:
            add(Rule.LINE_CODE, "The service line has no CPT/HCPCS code (SV101-2).", ln.line_id)
        bad = [p for p in ln.dx_pointers if not 1 <= p <= min(len(claim.diagnoses), 12)]
        if not ln.dx_pointers:
            add(Rule.DX_POINTER, "The service line points to no diagnosis (SV107).", ln.line_id)
        elif bad or len(ln.dx_pointers) > MAX_POINTERS:
            add(
                Rule.DX_POINTER,
                f"Diagnosis pointers {list(ln.dx_pointers)} (SV107) must be 1 to 4 pointers "
                f"between 1 and {min(len(claim.diagnoses), 12)}.",
                ln.line_id,
            )
    elif not ln.revenue_code:
        add(Rule.LINE_CODE, "The institutional service line has no revenue code.", ln.line_id)
    if len(ln.modifiers) > MAX_MODIFIERS:
        add(Rule.LINE_CODE, f"At most {MAX_MODIFIERS} modifiers per line.", ln.line_id)
    if not claim.statement_from <= ln.service_date <= claim.statement_to:
        add(
            Rule.DATE_ORDER,
            "The line's service date (DTP*472) is outside the claim's dates of service.",
            ln.line_id,
        )


def _check_diagnoses(claim: Claim, add: _Add) -> None:
    limit = (
        MAX_PROFESSIONAL_DIAGNOSES
        if claim.claim_type is ClaimType.PROFESSIONAL
        else MAX_INSTITUTIONAL_DIAGNOSES
    )
    if not claim.diagnoses:
        add(Rule.DX_MISSING, "The claim has no diagnosis; a principal diagnosis is required.")
    if len(claim.diagnoses) > limit:
        add(
            Rule.DX_TOO_MANY,
            f"{len(claim.diagnoses)} diagnoses; this claim form carries at most {limit}.",
        )
    codes = [(n, d.code) for n, d in enumerate(claim.diagnoses, start=1)]
    if claim.admitting_diagnosis:
        codes.append((0, claim.admitting_diagnosis))
    for n, code in codes:
        label = "The admitting diagnosis" if n == 0 else f"Diagnosis {n}"
        result = check_diagnosis(code, claim.statement_from)
        if result is DiagnosisCheck.INVALID:
            add(Rule.DX_INVALID, f"{label} (HI) is not an ICD-10-CM code.")
        elif result is DiagnosisCheck.NOT_BILLABLE:
            add(
                Rule.DX_NOT_BILLABLE,
                f"{label} (HI) is a header code; code it to the highest specificity.",
            )
        elif result is DiagnosisCheck.OUTSIDE_RELEASE:
            add(
                Rule.DX_OUTSIDE_RELEASE,
                f"{label} (HI) could not be confirmed for the date of service: the loaded "
                "ICD-10-CM release does not cover that date.",
                severity=Severity.WARNING,
            )
    if claim.is_inpatient:
        for n, d in enumerate(claim.diagnoses, start=1):
            if d.poa not in _POA_CODES:
                add(
                    Rule.POA_MISSING,
                    f"Diagnosis {n} (HI) needs a present-on-admission indicator (Y, N, U, W or 1).",
                )


def _check_npis(claim: Claim, add: _Add) -> None:
    if not npi_is_valid(claim.billing_provider.npi):
        add(Rule.NPI_CHECK_DIGIT, "The billing provider's NPI (NM109) fails the check digit.")
    if claim.rendering is not None and not npi_is_valid(claim.rendering.npi):
        role = "rendering" if claim.claim_type is ClaimType.PROFESSIONAL else "attending"
        add(Rule.NPI_CHECK_DIGIT, f"The {role} provider's NPI (NM109) fails the check digit.")


def _check_dates(claim: Claim, add: _Add) -> None:
    if claim.statement_from > claim.statement_to:
        add(Rule.DATE_ORDER, "The claim's dates of service start after they end.")
    if claim.patient_person.birth_date > claim.statement_from:
        add(Rule.DATE_ORDER, "The patient's birth date (DMG02) is after the date of service.")
    stay = claim.inpatient
    if stay is not None and stay.admission_date > claim.statement_to:
        add(Rule.DATE_ORDER, "The admission (DTP*435) is after the discharge.")
    for n, p in enumerate(claim.procedures, start=1):
        if not claim.statement_from <= p.performed_on <= claim.statement_to:
            add(Rule.DATE_ORDER, f"ICD-10-PCS procedure {n} (HI) is dated outside the stay.")
