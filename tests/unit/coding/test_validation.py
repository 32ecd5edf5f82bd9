import pytest

from services.coding.domain import (
    EncounterShapeError,
    Rule,
    Severity,
    ValidationResult,
    validate_encounter,
)
from services.coding.domain.codesets import NO_TABLES, CodeTables
from tests.unit.coding.conftest import encounter


def validate(doc: dict[str, object], tables: CodeTables = NO_TABLES) -> ValidationResult:
    return validate_encounter(doc, tables=tables)


def findings_for(result: ValidationResult, rule: Rule) -> list[str]:
    return [f.message for f in result.findings if f.rule is rule]


def test_a_clean_professional_encounter_is_valid() -> None:
    doc = encounter(
        "E11.9",
        "I10",
        encounter_class="professional",
        procedures=[{"code": "99214", "modifiers": ["25"], "units": 1, "dx_pointers": [1, 2]}],
    )
    result = validate(doc)
    assert result.valid, result.findings
    assert result.findings == []


def test_a_clean_inpatient_encounter_is_valid() -> None:
    doc = encounter(
        ("K35.80", "Y"),
        ("E11.9", "Y"),
        ("I69.351", None),
        encounter_class="inpatient",
        procedures=[{"code": "0DTJ4ZZ"}],
    )
    assert validate(doc).findings == []


def test_a_category_header_is_not_billable() -> None:
    result = validate(encounter("E11"))
    assert not result.valid
    (message,) = findings_for(result, Rule.ICD_NOT_BILLABLE)
    assert "E11" in message and "more specific" in message


def test_an_incomplete_code_says_what_is_missing() -> None:
    result = validate(encounter("S72.001"))
    (message,) = findings_for(result, Rule.ICD_NEEDS_7TH_CHARACTER)
    assert "7th character" in message and "S72.001A" in message
    assert validate(encounter("S72.001A")).valid


def test_placeholder_codes() -> None:
    assert validate(encounter("T36.0X1A")).valid
    (message,) = findings_for(validate(encounter("T36.01A")), Rule.ICD_MISSING_PLACEHOLDER)
    assert "T36.0X1A" in message
    (message,) = findings_for(validate(encounter("T36.01")), Rule.ICD_NEEDS_7TH_CHARACTER)
    assert "placeholder X" in message and "T36.0X1" in message


def test_excludes1_pair_on_one_encounter_is_an_error() -> None:
    result = validate(encounter("K50.90", "K51.90"))
    assert not result.valid
    (finding,) = [f for f in result.findings if f.rule is Rule.ICD_EXCLUDES1]
    assert finding.severity is Severity.ERROR
    assert "K50.90" in finding.message and "K51.90" in finding.message
    # Each code alone is fine, and so is an unrelated pair.
    assert validate(encounter("K50.90", "I10")).valid


def test_excludes1_from_a_category_note_reaches_its_codes() -> None:
    # E11 Excludes1: diabetes mellitus due to underlying condition (E08.-)
    result = validate(encounter("E08.9", "E11.9"))
    assert findings_for(result, Rule.ICD_EXCLUDES1)


def test_pregnancy_code_on_a_male_patient_is_flagged() -> None:
    result = validate(encounter("O80", "Z3A.39", sex="M"))
    messages = findings_for(result, Rule.ICD_SEX_CONFLICT)
    assert len(messages) == 2 and "female patients only" in messages[0]
    assert not findings_for(validate(encounter("O80", "Z3A.39", sex="F")), Rule.ICD_SEX_CONFLICT)
    assert not findings_for(validate(encounter("O80", sex="U")), Rule.ICD_SEX_CONFLICT)


def test_male_genital_code_on_a_female_patient_is_flagged() -> None:
    result = validate(encounter("N40.0", sex="F"))
    (message,) = findings_for(result, Rule.ICD_SEX_CONFLICT)
    assert "N40-N53" in message


def test_inpatient_diagnosis_without_poa_is_an_error() -> None:
    result = validate(encounter(("E11.9", None), encounter_class="inpatient"))
    assert not result.valid
    assert findings_for(result, Rule.ICD_POA_MISSING)
    # Outpatient encounters do not report POA.
    assert validate(encounter(("E11.9", None), encounter_class="outpatient")).valid


def test_poa_exempt_codes_need_no_indicator() -> None:
    result = validate(encounter(("E11.9", "N"), ("Z51.11", None), encounter_class="inpatient"))
    assert result.valid, result.findings


def test_poa_values() -> None:
    result = validate(encounter(("E11.9", "X"), encounter_class="inpatient"))
    assert findings_for(result, Rule.ICD_POA_INVALID)
    for value in ("Y", "N", "U", "W", "y"):
        assert validate(encounter(("E11.9", value), encounter_class="inpatient")).valid
    # "1" (exempt) on a code outside the built-in exempt set: confirm, not block.
    result = validate(encounter(("E11.9", "1"), encounter_class="inpatient"))
    (finding,) = result.findings
    assert finding.rule is Rule.ICD_POA_EXEMPT_MISUSE and finding.severity is Severity.WARNING


def test_poa_exempt_misuse_is_an_error_when_the_cms_list_is_installed() -> None:
    tables = CodeTables(poa_exempt=frozenset({"Z51.11"}))
    result = validate(encounter(("E11.9", "1"), encounter_class="inpatient"), tables)
    (finding,) = result.findings
    assert finding.rule is Rule.ICD_POA_EXEMPT_MISUSE and finding.severity is Severity.ERROR
    # With the installed list, a code it does not hold is no longer exempt.
    result = validate(encounter(("I69.351", None), encounter_class="inpatient"), tables)
    assert findings_for(result, Rule.ICD_POA_MISSING)


def test_manifestation_code_as_principal_is_an_error() -> None:
    result = validate(encounter("G63", "E85.4"))
    (message,) = findings_for(result, Rule.ICD_MANIFESTATION_PRINCIPAL)
    assert "manifestation" in message
    # The same code sequenced after its etiology is fine.
    assert validate(encounter("E85.4", "G63")).valid


def test_code_first_sequence_is_a_warning() -> None:
    result = validate(encounter("E11.9", "D63.1", "N18.4"))
    (finding,) = [f for f in result.findings if f.rule is Rule.ICD_CODE_FIRST]
    assert finding.severity is Severity.WARNING and "N18.4" in finding.message
    assert result.valid  # warnings do not block
    assert not findings_for(validate(encounter("N18.4", "D63.1")), Rule.ICD_CODE_FIRST)


def test_supplementary_codes_cannot_be_principal() -> None:
    assert findings_for(
        validate(encounter("W19.XXXA", "S72.001A")), Rule.ICD_EXTERNAL_CAUSE_PRINCIPAL
    )
    assert validate(encounter("S72.001A", "W19.XXXA")).valid
    assert findings_for(validate(encounter("B96.20", "N39.0")), Rule.ICD_INFECTIOUS_AGENT_PRINCIPAL)
    assert validate(encounter("N39.0", "B96.20")).valid


def test_duplicate_codes_written_differently_are_caught() -> None:
    result = validate(encounter("E11.9", "e119"))
    (message,) = findings_for(result, Rule.ICD_DUPLICATE)
    assert "E11.9" in message


def test_thirteen_diagnoses_on_a_professional_encounter_is_an_error() -> None:
    codes = [
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
    assert len(codes) == 13
    result = validate(encounter(*codes, encounter_class="professional"))
    assert findings_for(result, Rule.ENC_TOO_MANY_DIAGNOSES)
    assert validate(encounter(*codes[:12], encounter_class="professional")).valid
    # Institutional claims take up to 25.
    assert validate(encounter(*codes, encounter_class="outpatient")).valid


def test_no_diagnosis() -> None:
    assert findings_for(validate(encounter()), Rule.ENC_NO_DIAGNOSIS)


def test_unknown_and_malformed_codes() -> None:
    assert findings_for(validate(encounter("E11.99")), Rule.ICD_UNKNOWN_CODE)
    assert findings_for(validate(encounter("99214")), Rule.ICD_FORMAT)


def test_a_wrong_shape_names_the_field() -> None:
    doc = encounter("E11.9")
    doc["diagnoses"] = [{"code": 119}]
    with pytest.raises(EncounterShapeError) as raised:
        validate(doc)
    assert raised.value.field == "diagnoses[0].code"
    with pytest.raises(EncounterShapeError, match="encounter_class"):
        validate({**encounter("E11.9"), "encounter_class": "clinic"})
    with pytest.raises(EncounterShapeError, match=r"patient\.sex"):
        validate({**encounter("E11.9"), "patient": {"age": 3}})


def test_findings_serialise_for_the_api() -> None:
    result = validate(encounter("E11"))
    assert result.to_dict()["valid"] is False
    assert result.findings[0].to_dict() == {
        "severity": "error",
        "rule": "ICD_NOT_BILLABLE",
        "code": "E11",
        "message": result.findings[0].message,
    }
