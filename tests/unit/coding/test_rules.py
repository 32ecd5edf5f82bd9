"""Every rule id has a document that triggers it, and the table covers every rule."""

import pytest

from services.coding.domain import Rule, Severity, validate_encounter
from services.coding.domain.codesets import NO_TABLES, CodeTables
from tests.unit.coding.conftest import encounter

PRO = "professional"
IP = "inpatient"
LINE: dict[str, object] = {"code": "99214", "dx_pointers": [1]}
TABLES = CodeTables(
    pcs=frozenset({"0DTJ4ZZ"}),
    hcpcs=frozenset({"J1100"}),
    hcpcs_modifiers=frozenset({"LT"}),
    poa_exempt=frozenset({"Z51.11"}),
)
THIRTEEN = [
    "E11.9",
    "I10",
    "J45.909",
    "K21.9",
    "E78.5",
    "M54.50",
    "F41.9",
    "G47.33",
    "N39.0",
    "R51.9",
    "Z79.4",
    "E66.9",
    "H52.4",
]

E, W = Severity.ERROR, Severity.WARNING


def pro(*procedures: dict[str, object], dx: tuple[str, ...] = ("I10",)) -> dict[str, object]:
    return encounter(*dx, encounter_class=PRO, procedures=list(procedures))


def ip(
    *diagnoses: tuple[str, str | None], procedures: list[dict[str, object]] | None = None
) -> dict[str, object]:
    return encounter(*diagnoses, encounter_class=IP, procedures=procedures)


def opd(code: str) -> dict[str, object]:
    return encounter("I10", procedures=[{"code": code}])


TRIGGERS: dict[Rule, tuple[dict[str, object], CodeTables, Severity]] = {
    Rule.ENC_NO_DIAGNOSIS: (encounter(), NO_TABLES, E),
    Rule.ENC_TOO_MANY_DIAGNOSES: (encounter(*THIRTEEN, encounter_class=PRO), NO_TABLES, E),
    Rule.ICD_FORMAT: (encounter("99214"), NO_TABLES, E),
    Rule.ICD_UNKNOWN_CODE: (encounter("E11.99"), NO_TABLES, E),
    Rule.ICD_NOT_BILLABLE: (encounter("E11"), NO_TABLES, E),
    Rule.ICD_NEEDS_7TH_CHARACTER: (encounter("S72.001"), NO_TABLES, E),
    Rule.ICD_INVALID_7TH_CHARACTER: (encounter("S72.001Z"), NO_TABLES, E),
    Rule.ICD_MISSING_PLACEHOLDER: (encounter("T36.01A"), NO_TABLES, E),
    Rule.ICD_DUPLICATE: (encounter("I10", "I10"), NO_TABLES, E),
    Rule.ICD_EXCLUDES1: (encounter("K50.90", "K51.90"), NO_TABLES, E),
    Rule.ICD_MANIFESTATION_PRINCIPAL: (encounter("G63", "E85.4"), NO_TABLES, E),
    Rule.ICD_EXTERNAL_CAUSE_PRINCIPAL: (encounter("W19.XXXA", "S72.001A"), NO_TABLES, E),
    Rule.ICD_INFECTIOUS_AGENT_PRINCIPAL: (encounter("B96.20", "N39.0"), NO_TABLES, E),
    Rule.ICD_CODE_FIRST: (encounter("I10", "D63.1", "N18.4"), NO_TABLES, W),
    Rule.ICD_SEX_CONFLICT: (encounter("O80", sex="M"), NO_TABLES, E),
    Rule.ICD_POA_MISSING: (ip(("E11.9", None)), NO_TABLES, E),
    Rule.ICD_POA_INVALID: (ip(("E11.9", "Q")), NO_TABLES, E),
    Rule.ICD_POA_EXEMPT_MISUSE: (ip(("E11.9", "1")), TABLES, E),
    Rule.PROC_FORMAT: (opd("9921"), NO_TABLES, E),
    Rule.PROC_NOT_IN_TABLE: (opd("J9999"), TABLES, E),
    Rule.PROC_PCS_NOT_INPATIENT: (opd("0DTJ4ZZ"), NO_TABLES, E),
    Rule.PROC_HCPCS_ON_INPATIENT: (ip(("I10", "Y"), procedures=[LINE]), NO_TABLES, W),
    Rule.PROC_PCS_LINE_DETAIL: (
        ip(("I10", "Y"), procedures=[{"code": "0DTJ4ZZ", "units": 2}]),
        NO_TABLES,
        E,
    ),
    Rule.PROC_MODIFIER_FORMAT: (pro({**LINE, "modifiers": ["2-"]}), NO_TABLES, E),
    Rule.PROC_MODIFIER_UNKNOWN: (pro({**LINE, "modifiers": ["QQ"]}), TABLES, W),
    Rule.PROC_MODIFIER_DUPLICATE: (pro({**LINE, "modifiers": ["LT", "lt"]}), NO_TABLES, E),
    Rule.PROC_TOO_MANY_MODIFIERS: (
        pro({**LINE, "modifiers": ["25", "59", "76", "77", "LT"]}),
        NO_TABLES,
        E,
    ),
    Rule.PROC_UNITS: (pro({**LINE, "units": -1}), NO_TABLES, E),
    Rule.PROC_DX_POINTER_MISSING: (pro({"code": "99214"}), NO_TABLES, E),
    Rule.PROC_DX_POINTER_INVALID: (pro({**LINE, "dx_pointers": [2]}), NO_TABLES, E),
    Rule.PROC_TOO_MANY_DX_POINTERS: (
        pro({**LINE, "dx_pointers": [1, 2, 1, 2, 1]}, dx=("I10", "E11.9")),
        NO_TABLES,
        E,
    ),
}


# Checked by the submission use case against the stored chart (tests/unit/services).
SUBMISSION_RULES = {Rule.ENC_NOT_CODABLE, Rule.ENC_AMOUNT_TOO_LARGE}


def test_every_rule_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(Rule) - SUBMISSION_RULES


@pytest.mark.parametrize("rule", list(TRIGGERS), ids=str)
def test_rule_is_triggered(rule: Rule) -> None:
    doc, tables, severity = TRIGGERS[rule]
    result = validate_encounter(doc, tables=tables)
    matching = [f for f in result.findings if f.rule is rule]
    assert matching, result.findings
    assert all(f.severity is severity for f in matching)
    assert all(f.message for f in matching)
    assert result.valid is (severity is Severity.WARNING and not result.errors)
