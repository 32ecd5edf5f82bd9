import pytest

from services.coding.domain import Rule, Severity, validate_encounter
from services.coding.domain.codesets import NO_TABLES, CodeTables
from services.coding.domain.procedures import ProcedureKind, classify_procedure
from tests.unit.coding.conftest import encounter


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("99214", ProcedureKind.CPT),
        ("3008F", ProcedureKind.CPT_CATEGORY_II),
        ("0042T", ProcedureKind.CPT_CATEGORY_III),
        ("0240U", ProcedureKind.CPT_PLA),
        ("j1100", ProcedureKind.HCPCS),
        ("0DTJ4ZZ", ProcedureKind.ICD10PCS),
        ("0DTJ4ZI", ProcedureKind.UNKNOWN),  # I and O are not in the ICD-10-PCS alphabet
        ("9921", ProcedureKind.UNKNOWN),
        ("1234X", ProcedureKind.UNKNOWN),
        ("JJ100", ProcedureKind.UNKNOWN),
    ],
)
def test_formats(code: str, kind: ProcedureKind) -> None:
    assert classify_procedure(code) is kind


def rules(
    procedures: list[dict[str, object]],
    encounter_class: str = "professional",
    tables: CodeTables = NO_TABLES,
) -> list[tuple[Rule, Severity]]:
    doc = encounter("E11.9", "I10", encounter_class=encounter_class, procedures=procedures)
    return [(f.rule, f.severity) for f in validate_encounter(doc, tables=tables).findings]


def test_a_pointer_to_a_missing_diagnosis_is_an_error() -> None:
    found = rules([{"code": "99214", "dx_pointers": [1, 3]}])
    assert found == [(Rule.PROC_DX_POINTER_INVALID, Severity.ERROR)]
    assert rules([{"code": "99214", "dx_pointers": [2, 1]}]) == []


def test_pointer_count_and_presence() -> None:
    assert rules([{"code": "99214"}]) == [(Rule.PROC_DX_POINTER_MISSING, Severity.ERROR)]
    # Institutional lines carry no pointers on the 837I.
    assert rules([{"code": "99284"}], encounter_class="emergency") == []
    too_many = rules([{"code": "99214", "dx_pointers": [1, 2, 1, 2, 1]}])
    assert (Rule.PROC_TOO_MANY_DX_POINTERS, Severity.ERROR) in too_many


def test_modifiers() -> None:
    assert (
        rules([{"code": "99214", "modifiers": ["25", "59", "xs", "LT"], "dx_pointers": [1]}]) == []
    )
    five = rules(
        [{"code": "99214", "modifiers": ["25", "59", "XS", "LT", "RT"], "dx_pointers": [1]}]
    )
    assert five == [(Rule.PROC_TOO_MANY_MODIFIERS, Severity.ERROR)]
    assert rules([{"code": "99214", "modifiers": ["2"], "dx_pointers": [1]}]) == [
        (Rule.PROC_MODIFIER_FORMAT, Severity.ERROR)
    ]
    assert rules([{"code": "99214", "modifiers": ["25", "25"], "dx_pointers": [1]}]) == [
        (Rule.PROC_MODIFIER_DUPLICATE, Severity.ERROR)
    ]


def test_units_must_be_positive() -> None:
    assert rules([{"code": "J1100", "units": 0, "dx_pointers": [1]}]) == [
        (Rule.PROC_UNITS, Severity.ERROR)
    ]
    assert rules([{"code": "J1100", "units": 2.5, "dx_pointers": [1]}]) == []


def test_icd10pcs_belongs_to_inpatient_encounters() -> None:
    assert rules([{"code": "0DTJ4ZZ"}], encounter_class="outpatient") == [
        (Rule.PROC_PCS_NOT_INPATIENT, Severity.ERROR)
    ]
    doc = encounter(("K35.80", "Y"), encounter_class="inpatient", procedures=[{"code": "0DTJ4ZZ"}])
    assert validate_encounter(doc, tables=NO_TABLES).valid
    detail = encounter(
        ("K35.80", "Y"),
        encounter_class="inpatient",
        procedures=[{"code": "0DTJ4ZZ", "modifiers": ["LT"]}],
    )
    assert [f.rule for f in validate_encounter(detail, tables=NO_TABLES).findings] == [
        Rule.PROC_PCS_LINE_DETAIL
    ]


def test_cpt_on_an_inpatient_encounter_needs_confirmation() -> None:
    doc = encounter(("K35.80", "Y"), encounter_class="inpatient", procedures=[{"code": "44970"}])
    result = validate_encounter(doc, tables=NO_TABLES)
    assert result.valid
    assert [(f.rule, f.severity) for f in result.findings] == [
        (Rule.PROC_HCPCS_ON_INPATIENT, Severity.WARNING)
    ]


def test_installed_tables_turn_format_checks_into_membership_checks() -> None:
    tables = CodeTables(
        pcs=frozenset({"0DTJ4ZZ"}),
        hcpcs=frozenset({"J1100"}),
        hcpcs_modifiers=frozenset({"LT", "RT"}),
    )
    assert rules([{"code": "J1100", "dx_pointers": [1]}], tables=tables) == []
    assert rules([{"code": "J9999", "dx_pointers": [1]}], tables=tables) == [
        (Rule.PROC_NOT_IN_TABLE, Severity.ERROR)
    ]
    # Without the table, J9999 passes on format alone.
    assert rules([{"code": "J9999", "dx_pointers": [1]}]) == []
    # CPT is never table-checked (AMA-licensed): format only.
    assert rules([{"code": "99214", "dx_pointers": [1]}], tables=tables) == []
    inpatient = encounter(
        ("K35.80", "Y"), encounter_class="inpatient", procedures=[{"code": "0DTJ4ZY"}]
    )
    assert [f.rule for f in validate_encounter(inpatient, tables=tables).findings] == [
        Rule.PROC_NOT_IN_TABLE
    ]
    unknown_modifier = rules(
        [{"code": "J1100", "modifiers": ["ZZ", "25"], "dx_pointers": [1]}], tables=tables
    )
    assert unknown_modifier == [(Rule.PROC_MODIFIER_UNKNOWN, Severity.WARNING)]
