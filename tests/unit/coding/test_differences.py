"""Each kind of difference between a coder's and an auditor's codes, classified once."""

from __future__ import annotations

from services.coding.domain.differences import Kind, compare_codings


def _kinds(coder: dict[str, object], auditor: dict[str, object]) -> list[tuple[str, str]]:
    return [(str(d.kind), d.describe()) for d in compare_codings(coder, auditor).differences]


def test_identical_codings_have_no_difference() -> None:
    coding = {"diagnoses": ["E11.9", "I10"], "procedures": [{"code": "99214", "units": 1}]}
    assert compare_codings(coding, coding).differences == ()


def test_a_code_of_the_same_category_was_changed_not_deleted_and_added() -> None:
    kinds = _kinds({"diagnoses": ["E11.9", "I10"]}, {"diagnoses": ["I10", "E11.65"]})
    # E11.9 -> E11.65 is one change; I10 stayed, and is not "out of sequence" by itself.
    assert kinds == [("changed", "E11.9 changed to E11.65")]


def test_unrelated_codes_at_the_same_place_are_a_change_the_rest_added_or_deleted() -> None:
    coder = {"diagnoses": ["E11.9", "I10", "R51.9"], "procedures": ["99214", "36415"]}
    auditor = {"diagnoses": ["E11.9", "I10", "E78.5", "N18.30"], "procedures": ["99214"]}
    assert _kinds(coder, auditor) == [
        ("changed", "R51.9 changed to E78.5"),
        ("added", "N18.30 added at 4"),
        ("deleted", "36415 deleted (was 2)"),
    ]


def test_the_code_the_auditor_moved_is_the_one_out_of_sequence() -> None:
    [moved] = compare_codings(
        {"diagnoses": ["I10", "J18.9", "E11.9"]}, {"diagnoses": ["E11.9", "I10", "J18.9"]}
    ).differences
    assert (moved.kind, moved.coder.code if moved.coder else None) == (Kind.SEQUENCING, "E11.9")
    assert (moved.coder_position, moved.auditor_position, moved.principal) == (3, 1, True)
    assert moved.id == "dx-sequencing-3-1"


def test_poa_modifier_and_units_differences_on_the_same_code() -> None:
    coder = {
        "diagnoses": [{"code": "J18.9", "poa": "Y"}],
        "procedures": [{"code": "20610", "modifiers": ["RT"], "units": 1}],
    }
    auditor = {
        "diagnoses": [{"code": "j189", "poa": "N"}],
        "procedures": [{"code": "20610", "modifiers": ["LT"], "units": 2}],
    }
    assert _kinds(coder, auditor) == [
        ("poa", "POA of J18.9: Y to N"),
        ("modifier", "modifiers of 20610: RT to LT"),
        ("units", "units of 20610: 1 to 2"),
    ]


def test_modifiers_compare_as_sets_and_a_procedure_may_repeat() -> None:
    coder = {"procedures": [{"code": "97110", "modifiers": ["GP", "59"]}, {"code": "97110"}]}
    auditor = {"procedures": [{"code": "97110", "modifiers": ["59", "GP"]}, {"code": "97110"}]}
    assert compare_codings(coder, auditor).differences == ()
