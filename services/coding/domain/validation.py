"""Encounter-level validation: the entry point other services call."""

from __future__ import annotations

from collections.abc import Mapping

from services.coding.domain import diagnoses, icd10cm
from services.coding.domain.codesets import CodeTables, current_tables
from services.coding.domain.encounter import EncounterClass, EncounterInput, parse_encounter
from services.coding.domain.findings import Finding, Rule, ValidationResult, error
from services.coding.domain.icd10cm import normalize_icd10cm
from services.coding.domain.poa import check_poa
from services.coding.domain.procedures import check_procedures

# Diagnosis slots on the claim: 837P / CMS-1500 take 12, 837I / UB-04 take 25
# (the principal diagnosis plus 24 others).
MAX_DIAGNOSES_PROFESSIONAL = 12
MAX_DIAGNOSES_INSTITUTIONAL = 25


def max_diagnoses(encounter_class: EncounterClass) -> int:
    if encounter_class.institutional:
        return MAX_DIAGNOSES_INSTITUTIONAL
    return MAX_DIAGNOSES_PROFESSIONAL


def validate_encounter(
    doc: Mapping[str, object] | EncounterInput, *, tables: CodeTables | None = None
) -> ValidationResult:
    """Validate one coded encounter.

    `doc` is the JSON document (see `encounter.parse_encounter`) or an already parsed
    EncounterInput; a document of the wrong shape raises EncounterShapeError naming the field.
    `tables` defaults to the CMS tables installed in the configured code-set directory.
    """
    encounter = doc if isinstance(doc, EncounterInput) else parse_encounter(doc)
    tables = current_tables() if tables is None else tables
    findings: list[Finding] = []
    findings.extend(_check_counts(encounter))
    codes = [normalize_icd10cm(diagnosis.code) for diagnosis in encounter.diagnoses]
    inpatient = encounter.encounter_class is EncounterClass.INPATIENT

    # Codes in the classification, billable or not: encounter-level rules (Excludes1, sex,
    # sequencing) run on them too, so one pass reports everything.
    known: list[str] = []
    seen: set[str] = set()
    for position, code in enumerate(codes):
        if code in seen:
            findings.append(
                error(
                    Rule.ICD_DUPLICATE,
                    code,
                    f"{code} is listed more than once (again as diagnosis {position + 1}); "
                    "report each code once.",
                )
            )
            continue
        seen.add(code)
        code_findings = diagnoses.check_code(code)
        findings.extend(code_findings)
        if icd10cm.looks_like_icd10cm(code) and icd10cm.is_valid(code):
            known.append(code)
            findings.extend(diagnoses.check_sex(code, encounter.patient.sex))
        if inpatient:
            poa = encounter.diagnoses[position].poa
            findings.extend(check_poa(code, poa, position == 0, tables))

    if codes and known and known[0] == codes[0]:
        findings.extend(diagnoses.check_principal(codes[0], inpatient))
    findings.extend(diagnoses.check_sequence(known))
    findings.extend(diagnoses.check_excludes1(known))
    findings.extend(check_procedures(encounter, tables))
    return ValidationResult(_unique(findings))


def _check_counts(encounter: EncounterInput) -> list[Finding]:
    count = len(encounter.diagnoses)
    if count == 0:
        return [
            error(
                Rule.ENC_NO_DIAGNOSIS,
                "",
                "The encounter has no diagnosis; list the principal or first-listed diagnosis.",
            )
        ]
    limit = max_diagnoses(encounter.encounter_class)
    if count > limit:
        kind = "an institutional" if encounter.encounter_class.institutional else "a professional"
        return [
            error(
                Rule.ENC_TOO_MANY_DIAGNOSES,
                "",
                f"{count} diagnoses listed; {kind} claim carries at most {limit}. Keep the "
                "codes that support the services billed and the most significant conditions.",
            )
        ]
    return []


def _unique(findings: list[Finding]) -> list[Finding]:
    """One ICD_CODE_FIRST finding per code: the principal and sequence checks can both see it."""
    seen: set[tuple[Rule, str]] = set()
    kept = []
    for finding in findings:
        key = (finding.rule, finding.code)
        if finding.rule is Rule.ICD_CODE_FIRST and key in seen:
            continue
        seen.add(key)
        kept.append(finding)
    return kept
