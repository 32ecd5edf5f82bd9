"""What the scrubber reports: a rule, a message that names elements (never their values)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .model import ClaimType


class Rule(StrEnum):
    X12_ENVELOPE = "X12_ENVELOPE"  # pyx12: ISA/GS/ST/SE/GE/IEA problems
    X12_SEGMENT = "X12_SEGMENT"  # pyx12: segment missing, unexpected or repeated
    X12_ELEMENT = "X12_ELEMENT"  # pyx12: element missing, too long, bad code value
    CLAIM_NOT_IN_FILE = "CLAIM_NOT_IN_FILE"
    CLAIM_NOT_BUILT = "CLAIM_NOT_BUILT"  # the coded encounter could not become a claim
    DX_MISSING = "DX_MISSING"
    DX_TOO_MANY = "DX_TOO_MANY"
    DX_INVALID = "DX_INVALID"
    DX_NOT_BILLABLE = "DX_NOT_BILLABLE"
    DX_OUTSIDE_RELEASE = "DX_OUTSIDE_RELEASE"
    DX_POINTER = "DX_POINTER"
    POA_MISSING = "POA_MISSING"
    NPI_CHECK_DIGIT = "NPI_CHECK_DIGIT"
    TOTAL_CHARGE = "TOTAL_CHARGE"
    LINE_CHARGE = "LINE_CHARGE"  # $0, negative or beyond what a line can bill
    LINE_UNITS = "LINE_UNITS"  # zero, negative or absurd units
    NO_SERVICE_LINES = "NO_SERVICE_LINES"
    LINE_CODE = "LINE_CODE"
    DATE_ORDER = "DATE_ORDER"
    PAYER_CLAIM_TYPE = "PAYER_CLAIM_TYPE"
    FREQUENCY_REFERENCE = "FREQUENCY_REFERENCE"  # a replacement or void without REF*F8


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


def held_claims(findings: Iterable[Finding]) -> set[str]:
    """Patient control numbers with at least one error ("" stands for a file-level error,
    which `tracking.apply_findings` turns into a hold on every claim of the file)."""
    return {f.patient_control_number for f in findings if f.severity is Severity.ERROR}
