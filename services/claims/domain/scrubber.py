"""Claim edits before submission: pyx12 over the whole file plus the checks pyx12 lacks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from .codesets import DiagnosisCheck, check_diagnosis, npi_is_valid
from .model import (
    MAX_INSTITUTIONAL_DIAGNOSES,
    MAX_MODIFIERS,
    MAX_POINTERS,
    MAX_PROFESSIONAL_DIAGNOSES,
    Claim,
    ClaimType,
)
from .pyx12_check import X12Error, validate_x12
from .segment_index import Index837, index_837


class Rule(StrEnum):
    X12_ENVELOPE = "X12_ENVELOPE"  # pyx12: ISA/GS/ST/SE/GE/IEA problems
    X12_SEGMENT = "X12_SEGMENT"  # pyx12: segment missing, unexpected or repeated
    X12_ELEMENT = "X12_ELEMENT"  # pyx12: element missing, too long, bad code value
    CLAIM_NOT_IN_FILE = "CLAIM_NOT_IN_FILE"
    DX_MISSING = "DX_MISSING"
    DX_TOO_MANY = "DX_TOO_MANY"
    DX_INVALID = "DX_INVALID"
    DX_NOT_BILLABLE = "DX_NOT_BILLABLE"
    DX_OUTSIDE_RELEASE = "DX_OUTSIDE_RELEASE"
    DX_POINTER = "DX_POINTER"
    POA_MISSING = "POA_MISSING"
    NPI_CHECK_DIGIT = "NPI_CHECK_DIGIT"
    TOTAL_CHARGE = "TOTAL_CHARGE"
    NO_SERVICE_LINES = "NO_SERVICE_LINES"
    LINE_CODE = "LINE_CODE"
    DATE_ORDER = "DATE_ORDER"
    PAYER_CLAIM_TYPE = "PAYER_CLAIM_TYPE"


class Severity(StrEnum):
    ERROR = "error"  # the claim is held
    WARNING = "warning"  # worth a look; the claim may go


@dataclass(frozen=True)
class Finding:
    rule: Rule
    message: str
    patient_control_number: str = ""  # empty when the finding concerns the whole file
    line_id: str = ""
    severity: Severity = Severity.ERROR
    segment: int = 0  # position in the interchange for X12 findings


@dataclass(frozen=True)
class PayerConfig:
    payer_id: str
    accepts: frozenset[ClaimType] = frozenset(ClaimType)


_Add = Callable[..., None]
_POA_CODES = frozenset({"Y", "N", "U", "W", "1"})


def scrub(
    x12_text: str,
    claims: Sequence[Claim],
    payers: Mapping[str, PayerConfig] | None = None,
    *,
    validate: bool = True,
) -> list[Finding]:
    """Every finding for the claims in ``x12_text``; errors hold a claim, warnings do not.

    ``payers`` maps payer id to what that payer accepts; payers not listed accept both
    claim types. ``validate=False`` skips pyx12 (for callers that already ran it).
    """
    findings: list[Finding] = []
    index = index_837(x12_text)
    if validate:
        _, errors = validate_x12(x12_text)
        findings.extend(x12_findings(errors, index))
    in_file = {pcn for t in index.transactions for pcn in t.claims}
    for claim in claims:
        if claim.patient_control_number not in in_file:
            findings.append(
                Finding(
                    Rule.CLAIM_NOT_IN_FILE,
                    "The claim is not in the 837 file that was scrubbed.",
                    claim.patient_control_number,
                )
            )
        findings.extend(check_claim(claim, payers or {}))
    return findings


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


def held_claims(findings: Iterable[Finding]) -> set[str]:
    """Patient control numbers with at least one error ("" stands for a file-level error,
    which `tracking.apply_findings` turns into a hold on every claim of the file)."""
    return {f.patient_control_number for f in findings if f.severity is Severity.ERROR}


def x12_findings(errors: Iterable[X12Error], index: Index837) -> list[Finding]:
    findings = []
    for err in errors:
        if err.level in ("interchange", "group", "transaction"):
            claims = [
                pcn
                for t in index.transactions
                if err.level == "interchange"
                or (err.level == "group" and t.group_control == err.group_control)
                or t.transaction_control == err.transaction_control
                for pcn in t.claims
            ]
            rule, line_id = Rule.X12_ENVELOPE, ""
        else:
            owner = index.owner(err.position)
            claims = list(owner.claims) if owner else []
            line_id = owner.line_id if owner else ""
            rule = Rule.X12_ELEMENT if err.level == "element" else Rule.X12_SEGMENT
        where = f"{err.element or err.seg_id} (segment {err.position})".strip()
        # err.message is worded from the X12 error code; err.value (PHI) stays out
        message = f"The file is not valid X12 at {where}: {err.message}"
        for pcn in claims or [""]:
            findings.append(Finding(rule, message, pcn, line_id, segment=err.position))
    return findings


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

    if not claim.lines:
        add(Rule.NO_SERVICE_LINES, "The claim has no service lines.")
    # Compare what the 837 carries: amounts in cents, as CLM02 and SV102 / SV203 are written.
    line_total = sum((_cents(ln.charge) for ln in claim.lines), Decimal(0))
    if claim.lines and line_total != _cents(claim.total_charge):
        add(
            Rule.TOTAL_CHARGE,
            f"Total charge {claim.total_charge} does not equal the sum of line charges "
            f"{line_total}.",
        )
    for ln in claim.lines:
        if claim.claim_type is ClaimType.PROFESSIONAL:
            if not ln.procedure_code:
                add(Rule.LINE_CODE, "The service line has no CPT/HCPCS code.", ln.line_id)
            bad = [p for p in ln.dx_pointers if not 1 <= p <= min(len(claim.diagnoses), 12)]
            if not ln.dx_pointers:
                add(Rule.DX_POINTER, "The service line points to no diagnosis.", ln.line_id)
            elif bad or len(ln.dx_pointers) > MAX_POINTERS:
                add(
                    Rule.DX_POINTER,
                    f"Diagnosis pointers {list(ln.dx_pointers)} must be 1 to 4 pointers between "
                    f"1 and {min(len(claim.diagnoses), 12)}.",
                    ln.line_id,
                )
        elif not ln.revenue_code:
            add(Rule.LINE_CODE, "The institutional service line has no revenue code.", ln.line_id)
        if len(ln.modifiers) > MAX_MODIFIERS:
            add(Rule.LINE_CODE, f"At most {MAX_MODIFIERS} modifiers per line.", ln.line_id)
        if not claim.statement_from <= ln.service_date <= claim.statement_to:
            add(
                Rule.DATE_ORDER,
                f"Service date {ln.service_date} is outside the claim's dates "
                f"{claim.statement_from} to {claim.statement_to}.",
                ln.line_id,
            )
    _check_dates(claim, add)
    return out


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
        label = "Admitting diagnosis" if n == 0 else f"Diagnosis {n}"
        result = check_diagnosis(code, claim.statement_from)
        if result is DiagnosisCheck.INVALID:
            add(Rule.DX_INVALID, f"{label} {code} is not an ICD-10-CM code.")
        elif result is DiagnosisCheck.NOT_BILLABLE:
            add(
                Rule.DX_NOT_BILLABLE,
                f"{label} {code} is a header code; code it to the highest specificity.",
            )
        elif result is DiagnosisCheck.OUTSIDE_RELEASE:
            add(
                Rule.DX_OUTSIDE_RELEASE,
                f"{label} {code} could not be confirmed for {claim.statement_from}: the loaded "
                "ICD-10-CM release does not cover that date.",
                severity=Severity.WARNING,
            )
    if claim.is_inpatient:
        for n, d in enumerate(claim.diagnoses, start=1):
            if d.poa not in _POA_CODES:
                add(
                    Rule.POA_MISSING,
                    f"Diagnosis {n} {d.code} needs a present-on-admission indicator "
                    "(Y, N, U, W or 1).",
                )


def _check_npis(claim: Claim, add: _Add) -> None:
    if not npi_is_valid(claim.billing_provider.npi):
        add(
            Rule.NPI_CHECK_DIGIT,
            f"Billing provider NPI {claim.billing_provider.npi} fails the NPI check digit.",
        )
    if claim.rendering is not None and not npi_is_valid(claim.rendering.npi):
        role = "Rendering" if claim.claim_type is ClaimType.PROFESSIONAL else "Attending"
        add(
            Rule.NPI_CHECK_DIGIT,
            f"{role} provider NPI {claim.rendering.npi} fails the NPI check digit.",
        )


def _check_dates(claim: Claim, add: _Add) -> None:
    if claim.statement_from > claim.statement_to:
        add(
            Rule.DATE_ORDER,
            f"The claim starts {claim.statement_from}, after it ends {claim.statement_to}.",
        )
    person = claim.patient_person
    if person.birth_date > claim.statement_from:
        add(Rule.DATE_ORDER, f"The patient's birth date {person.birth_date} is after the service.")
    stay = claim.inpatient
    if stay is not None and stay.admission_date > claim.statement_to:
        add(Rule.DATE_ORDER, f"Admission {stay.admission_date} is after discharge.")
    for p in claim.procedures:
        if not claim.statement_from <= p.performed_on <= claim.statement_to:
            add(
                Rule.DATE_ORDER,
                f"Procedure {p.code} on {p.performed_on} is outside the stay "
                f"{claim.statement_from} to {claim.statement_to}.",
            )
