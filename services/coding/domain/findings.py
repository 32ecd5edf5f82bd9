"""What validation reports: findings with a severity, a stable rule id, the code and a message."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # blocks submission
    WARNING = "warning"  # the coder must confirm before submitting


class Rule(StrEnum):
    """Stable rule ids: clients key on them, so never rename one; add new ids instead."""

    ENC_NO_DIAGNOSIS = "ENC_NO_DIAGNOSIS"
    ENC_TOO_MANY_DIAGNOSES = "ENC_TOO_MANY_DIAGNOSES"
    ENC_NOT_CODABLE = "ENC_NOT_CODABLE"  # the chart itself cannot carry a claim
    ENC_AMOUNT_TOO_LARGE = "ENC_AMOUNT_TOO_LARGE"  # more than an 837 may bill

    ICD_FORMAT = "ICD_FORMAT"
    ICD_UNKNOWN_CODE = "ICD_UNKNOWN_CODE"
    ICD_NOT_BILLABLE = "ICD_NOT_BILLABLE"
    ICD_NEEDS_7TH_CHARACTER = "ICD_NEEDS_7TH_CHARACTER"
    ICD_INVALID_7TH_CHARACTER = "ICD_INVALID_7TH_CHARACTER"
    ICD_MISSING_PLACEHOLDER = "ICD_MISSING_PLACEHOLDER"
    ICD_DUPLICATE = "ICD_DUPLICATE"
    ICD_EXCLUDES1 = "ICD_EXCLUDES1"
    ICD_MANIFESTATION_PRINCIPAL = "ICD_MANIFESTATION_PRINCIPAL"
    ICD_EXTERNAL_CAUSE_PRINCIPAL = "ICD_EXTERNAL_CAUSE_PRINCIPAL"
    ICD_INFECTIOUS_AGENT_PRINCIPAL = "ICD_INFECTIOUS_AGENT_PRINCIPAL"
    ICD_CODE_FIRST = "ICD_CODE_FIRST"
    ICD_SEX_CONFLICT = "ICD_SEX_CONFLICT"
    ICD_POA_MISSING = "ICD_POA_MISSING"
    ICD_POA_INVALID = "ICD_POA_INVALID"
    ICD_POA_EXEMPT_MISUSE = "ICD_POA_EXEMPT_MISUSE"

    PROC_FORMAT = "PROC_FORMAT"
    PROC_NOT_IN_TABLE = "PROC_NOT_IN_TABLE"
    PROC_PCS_NOT_INPATIENT = "PROC_PCS_NOT_INPATIENT"
    PROC_HCPCS_ON_INPATIENT = "PROC_HCPCS_ON_INPATIENT"
    PROC_PCS_LINE_DETAIL = "PROC_PCS_LINE_DETAIL"
    PROC_MODIFIER_FORMAT = "PROC_MODIFIER_FORMAT"
    PROC_MODIFIER_UNKNOWN = "PROC_MODIFIER_UNKNOWN"
    PROC_MODIFIER_DUPLICATE = "PROC_MODIFIER_DUPLICATE"
    PROC_TOO_MANY_MODIFIERS = "PROC_TOO_MANY_MODIFIERS"
    PROC_UNITS = "PROC_UNITS"
    PROC_DX_POINTER_MISSING = "PROC_DX_POINTER_MISSING"
    PROC_DX_POINTER_INVALID = "PROC_DX_POINTER_INVALID"
    PROC_TOO_MANY_DX_POINTERS = "PROC_TOO_MANY_DX_POINTERS"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    rule: Rule
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "rule": self.rule.value,
            "code": self.code,
            "message": self.message,
        }


def error(rule: Rule, code: str, message: str) -> Finding:
    return Finding(Severity.ERROR, rule, code, message)


def warning(rule: Rule, code: str, message: str) -> Finding:
    return Finding(Severity.WARNING, rule, code, message)


@dataclass(slots=True)
class ValidationResult:
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when nothing blocks submission; warnings still need the coder's confirmation."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def rules(self) -> set[Rule]:
        return {f.rule for f in self.findings}

    def to_dict(self) -> dict[str, object]:
        return {"valid": self.valid, "findings": [f.to_dict() for f in self.findings]}
