import subprocess
import sys

import pytest

from services.coding.domain import icd10cm, normalize_icd10cm
from services.coding.domain.icd10cm import Status, check_code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" e11.9 ", "E11.9"),
        ("E119", "E11.9"),
        ("e11", "E11"),
        ("s72.001a", "S72.001A"),
        ("T36.0x1A", "T36.0X1A"),
        ("E11.", "E11"),
        ("E 11 9", "E11.9"),
    ],
)
def test_normalize_accepts_case_spaces_and_missing_dot(raw: str, expected: str) -> None:
    assert normalize_icd10cm(raw) == expected


def test_e11_9_is_billable_and_e11_is_not() -> None:
    assert icd10cm.is_billable("E11.9")
    assert not icd10cm.is_billable("E11")
    assert check_code("E11").status is Status.NOT_BILLABLE
    assert icd10cm.is_valid("E11")


def test_description_comes_from_the_classification() -> None:
    assert icd10cm.description("e119") == "Type 2 diabetes mellitus without complications"
    assert icd10cm.description("X00.000") is None


def test_s72_001_needs_a_7th_character_and_s72_001a_is_complete() -> None:
    incomplete = check_code("S72.001")
    assert incomplete.status is Status.NEEDS_7TH
    assert incomplete.seventh is not None and {"A", "D", "S"} <= set(incomplete.seventh)
    assert check_code("S72.001A").status is Status.BILLABLE


def test_placeholder_x_codes() -> None:
    assert check_code("T36.0X1A").status is Status.BILLABLE
    missing = check_code("T36.01A")
    assert missing.status is Status.MISSING_PLACEHOLDER
    assert missing.suggestion == "T36.0X1A"
    # Neither placeholder nor 7th character: still explained as a 7th-character problem.
    both = check_code("T36.01")
    assert both.status is Status.NEEDS_7TH and both.stem == "T36.0X1"
    # A category taking 7th characters on an all-placeholder stem.
    assert check_code("T07").stem == "T07.XXX"
    assert check_code("T07.XXX").status is Status.NEEDS_7TH


def test_a_7th_character_the_code_does_not_take() -> None:
    found = check_code("S72.001Z")
    assert found.status is Status.INVALID_7TH
    assert found.stem == "S72.001"


def test_unknown_code() -> None:
    assert check_code("E11.99").status is Status.UNKNOWN


def test_excludes1_is_read_from_the_category_note() -> None:
    conflict = icd10cm.excludes1_conflict("K50.90", "K51.90")
    assert conflict is not None and conflict.owner == "K50"
    assert icd10cm.excludes1_conflict("E11.9", "E08.9") is not None  # E11: (E08.-)
    assert icd10cm.excludes1_conflict("E11.9", "I10") is None


def test_manifestation_and_supplementary_codes_are_recognised() -> None:
    assert icd10cm.is_manifestation("G63")  # Polyneuropathy in diseases classified elsewhere
    assert icd10cm.is_manifestation("M14.60")  # under "Arthropathies in other diseases ..."
    assert not icd10cm.is_manifestation("E11.9")
    assert icd10cm.is_infectious_agent("B96.20")
    assert not icd10cm.is_manifestation("B96.20")


def test_code_first_notes_skip_conditional_and_chapter_level_notes() -> None:
    (note,) = icd10cm.code_first_notes("D63.1")
    assert note.underlying and "N18" in [str(r) for r in note.ranges]
    # T36-T50 carry a block-level ", for adverse effects ..." note: not a sequencing rule.
    assert icd10cm.code_first_notes("T36.0X1A") == ()


def test_release_is_the_april_2026_cdc_release() -> None:
    assert icd10cm.release() == "April 2026"


def test_importing_the_domain_does_not_load_the_classification() -> None:
    probe = (
        "import sys, services.coding.domain as d; "
        "assert 'simple_icd_10_cm' not in sys.modules, 'loaded at import'; "
        "assert not d.icd10cm.is_loaded()"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
