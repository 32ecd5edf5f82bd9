"""Procedure lines: CPT / HCPCS Level II / ICD-10-PCS formats, modifiers, units, pointers.

CPT is AMA-licensed, so CPT codes are checked for format only and no CPT description is kept.
"""

from __future__ import annotations

import re
from enum import StrEnum

from services.coding.domain.codesets import PCS_CODE, CodeTables
from services.coding.domain.encounter import EncounterClass, EncounterInput, ProcedureLine
from services.coding.domain.findings import Finding, Rule, error, warning

MAX_MODIFIERS = 4
MAX_DX_POINTERS = 4
_MODIFIER = re.compile(r"[A-Z0-9]{2}")


class ProcedureKind(StrEnum):
    CPT = "cpt"  # Category I: five digits
    CPT_CATEGORY_II = "cpt_category_ii"  # four digits + F (performance measures)
    CPT_CATEGORY_III = "cpt_category_iii"  # four digits + T (emerging technology)
    CPT_PLA = "cpt_pla"  # four digits + U (proprietary laboratory analyses)
    HCPCS = "hcpcs"  # Level II: a letter + four digits
    ICD10PCS = "icd10pcs"  # seven characters, digits and letters except I and O
    UNKNOWN = "unknown"


_KINDS = (
    (re.compile(r"[0-9]{5}"), ProcedureKind.CPT),
    (re.compile(r"[0-9]{4}F"), ProcedureKind.CPT_CATEGORY_II),
    (re.compile(r"[0-9]{4}T"), ProcedureKind.CPT_CATEGORY_III),
    (re.compile(r"[0-9]{4}U"), ProcedureKind.CPT_PLA),
    (re.compile(r"[A-Z][0-9]{4}"), ProcedureKind.HCPCS),
    (PCS_CODE, ProcedureKind.ICD10PCS),
)


def normalize_procedure(code: str) -> str:
    return "".join(code.split()).upper()


def classify_procedure(code: str) -> ProcedureKind:
    normalized = normalize_procedure(code)
    for pattern, kind in _KINDS:
        if pattern.fullmatch(normalized):
            return kind
    return ProcedureKind.UNKNOWN


def check_procedures(encounter: EncounterInput, tables: CodeTables) -> list[Finding]:
    findings: list[Finding] = []
    for number, line in enumerate(encounter.procedures, start=1):
        findings.extend(_check_line(number, line, encounter, tables))
    return findings


def _check_line(
    number: int, line: ProcedureLine, encounter: EncounterInput, tables: CodeTables
) -> list[Finding]:
    code = normalize_procedure(line.code)
    kind = classify_procedure(code)
    inpatient = encounter.encounter_class is EncounterClass.INPATIENT
    where = f"procedure line {number}"
    if kind is ProcedureKind.UNKNOWN:
        return [
            error(
                Rule.PROC_FORMAT,
                code,
                f"{where}: {code!r} is not a procedure code: CPT is five digits (or four digits "
                "+ F or T), HCPCS Level II a letter + four digits, ICD-10-PCS seven characters "
                "(digits and letters except I and O).",
            )
        ]
    if kind is ProcedureKind.ICD10PCS:
        return _check_pcs(number, code, line, inpatient, tables)
    findings: list[Finding] = []
    if kind is ProcedureKind.HCPCS and tables.hcpcs is not None and code not in tables.hcpcs:
        findings.append(
            error(
                Rule.PROC_NOT_IN_TABLE,
                code,
                f"{where}: {code} is not an active code in the installed HCPCS Level II table.",
            )
        )
    if inpatient:
        findings.append(
            warning(
                Rule.PROC_HCPCS_ON_INPATIENT,
                code,
                f"{where}: inpatient procedures are reported in ICD-10-PCS; keep the CPT/HCPCS "
                f"line {code} only if the payer asks for it.",
            )
        )
    findings.extend(_check_modifiers(where, code, line.modifiers, tables))
    if line.units is not None and line.units <= 0:
        findings.append(
            error(Rule.PROC_UNITS, code, f"{where}: units must be positive, got {line.units}.")
        )
    findings.extend(_check_pointers(where, code, line, encounter))
    return findings


def _check_pcs(
    number: int, code: str, line: ProcedureLine, inpatient: bool, tables: CodeTables
) -> list[Finding]:
    where = f"procedure line {number}"
    findings: list[Finding] = []
    if not inpatient:
        findings.append(
            error(
                Rule.PROC_PCS_NOT_INPATIENT,
                code,
                f"{where}: {code} is ICD-10-PCS, which is reported for inpatient stays only; "
                "use CPT/HCPCS for this encounter.",
            )
        )
    if tables.pcs is not None and code not in tables.pcs:
        findings.append(
            error(
                Rule.PROC_NOT_IN_TABLE,
                code,
                f"{where}: {code} is not a valid code in the installed ICD-10-PCS table.",
            )
        )
    if line.modifiers or line.dx_pointers or (line.units is not None and line.units != 1):
        findings.append(
            error(
                Rule.PROC_PCS_LINE_DETAIL,
                code,
                f"{where}: ICD-10-PCS procedures take no modifiers, units or diagnosis pointers.",
            )
        )
    return findings


def _check_modifiers(
    where: str, code: str, modifiers: tuple[str, ...], tables: CodeTables
) -> list[Finding]:
    findings: list[Finding] = []
    if len(modifiers) > MAX_MODIFIERS:
        findings.append(
            error(
                Rule.PROC_TOO_MANY_MODIFIERS,
                code,
                f"{where}: {len(modifiers)} modifiers on {code}; a line takes at most "
                f"{MAX_MODIFIERS}.",
            )
        )
    seen: set[str] = set()
    for raw in modifiers:
        modifier = normalize_procedure(raw)
        if not _MODIFIER.fullmatch(modifier):
            findings.append(
                error(
                    Rule.PROC_MODIFIER_FORMAT,
                    code,
                    f"{where}: modifier {raw!r} on {code} must be two letters or digits.",
                )
            )
            continue
        if modifier in seen:
            findings.append(
                error(
                    Rule.PROC_MODIFIER_DUPLICATE,
                    code,
                    f"{where}: modifier {modifier} appears twice on {code}.",
                )
            )
        seen.add(modifier)
        # Letter-led modifiers are HCPCS Level II; digit-led ones are CPT's and not in the table.
        known = tables.hcpcs_modifiers
        if known is not None and modifier[0].isalpha() and modifier not in known:
            findings.append(
                warning(
                    Rule.PROC_MODIFIER_UNKNOWN,
                    code,
                    f"{where}: modifier {modifier} on {code} is not in the installed HCPCS "
                    "modifier list.",
                )
            )
    return findings


def _check_pointers(
    where: str, code: str, line: ProcedureLine, encounter: EncounterInput
) -> list[Finding]:
    pointers = line.dx_pointers or ()
    listed = len(encounter.diagnoses)
    if not pointers:
        if encounter.encounter_class is EncounterClass.PROFESSIONAL:
            return [
                error(
                    Rule.PROC_DX_POINTER_MISSING,
                    code,
                    f"{where}: {code} needs at least one diagnosis pointer (which listed "
                    "diagnosis supports the service).",
                )
            ]
        return []
    findings: list[Finding] = []
    if len(pointers) > MAX_DX_POINTERS:
        findings.append(
            error(
                Rule.PROC_TOO_MANY_DX_POINTERS,
                code,
                f"{where}: {len(pointers)} diagnosis pointers on {code}; a line takes at most "
                f"{MAX_DX_POINTERS}.",
            )
        )
    for pointer in sorted(set(pointers)):
        if not 1 <= pointer <= listed:
            findings.append(
                error(
                    Rule.PROC_DX_POINTER_INVALID,
                    code,
                    f"{where}: diagnosis pointer {pointer} on {code} points at no diagnosis; "
                    f"{listed} diagnoses are listed, so pointers run 1-{listed}.",
                )
            )
    if len(set(pointers)) != len(pointers):
        findings.append(
            error(
                Rule.PROC_DX_POINTER_INVALID,
                code,
                f"{where}: {code} points at the same diagnosis more than once.",
            )
        )
    return findings
