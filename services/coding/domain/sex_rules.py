"""Code ranges the classification binds to one sex, through a chapter, block or category title.

Each rule names its source title in ICD-10-CM (April 2026); docs/coding.md lists them with the
reasoning. Patients recorded with sex "U" are never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.coding.domain.encounter import Sex
from shared.code_ranges import CodeRange, parse_ranges


@dataclass(frozen=True, slots=True)
class SexRule:
    sex: Sex  # the only sex the codes apply to
    ranges: tuple[CodeRange, ...]
    source: str  # the classification title that binds the range to that sex


_F, _M = Sex.FEMALE, Sex.MALE

# (sex the codes are for, ranges, the title that says so)
_TABLE: tuple[tuple[Sex, str, str], ...] = (
    (_F, "O00-O9A", "Chapter 15: Pregnancy, childbirth and the puerperium (O00-O9A)"),
    (_F, "C51-C58", "Block: Malignant neoplasms of female genital organs (C51-C58)"),
    (_M, "C60-C63", "Block: Malignant neoplasms of male genital organs (C60-C63)"),
    (_F, "D28", "Category D28: Benign neoplasm of other and unspecified female genital organs"),
    (_M, "D29", "Category D29: Benign neoplasm of male genital organs"),
    (_F, "D39", "Category D39: Neoplasm of uncertain behavior of female genital organs"),
    (_M, "D40", "Category D40: Neoplasm of uncertain behavior of male genital organs"),
    (_M, "N40-N53", "Block: Diseases of male genital organs (N40-N53)"),
    (_F, "N70-N77", "Block: Inflammatory diseases of female pelvic organs (N70-N77)"),
    (_F, "N80-N98", "Block: Noninflammatory disorders of female genital tract (N80-N98)"),
    (_F, "Z33", "Category Z33: Pregnant state"),
    (_F, "Z34", "Category Z34: Encounter for supervision of normal pregnancy"),
    (_F, "Z3A", "Category Z3A: Weeks of gestation"),
    (_F, "Z39", "Category Z39: Encounter for maternal postpartum care and examination"),
)

SEX_RULES: tuple[SexRule, ...] = tuple(
    SexRule(sex, parse_ranges(ranges), source) for sex, ranges, source in _TABLE
)


def sex_conflict(code: str, sex: Sex) -> SexRule | None:
    """The rule `code` breaks for a patient of `sex`, if any."""
    if sex is Sex.UNKNOWN:
        return None
    for rule in SEX_RULES:
        if rule.sex is not sex and any(code in code_range for code_range in rule.ranges):
            return rule
    return None
