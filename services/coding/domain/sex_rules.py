"""Code ranges the classification itself binds to one sex, through a chapter, block or category title.

Each rule names its source title in ICD-10-CM (April 2026); docs/coding.md lists them with the
reasoning. Patients recorded with sex "U" are never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.coding.domain.code_ranges import CodeRange, parse_ranges
from services.coding.domain.encounter import Sex


@dataclass(frozen=True, slots=True)
class SexRule:
    sex: Sex  # the only sex the codes apply to
    ranges: tuple[CodeRange, ...]
    source: str  # the classification title that binds the range to that sex


SEX_RULES: tuple[SexRule, ...] = (
    SexRule(Sex.FEMALE, parse_ranges("O00-O9A"), "Chapter 15: Pregnancy, childbirth and the puerperium (O00-O9A)"),
    SexRule(Sex.FEMALE, parse_ranges("C51-C58"), "Block: Malignant neoplasms of female genital organs (C51-C58)"),
    SexRule(Sex.MALE, parse_ranges("C60-C63"), "Block: Malignant neoplasms of male genital organs (C60-C63)"),
    SexRule(Sex.FEMALE, parse_ranges("D28"), "Category D28: Benign neoplasm of other and unspecified female genital organs"),
    SexRule(Sex.MALE, parse_ranges("D29"), "Category D29: Benign neoplasm of male genital organs"),
    SexRule(Sex.FEMALE, parse_ranges("D39"), "Category D39: Neoplasm of uncertain behavior of female genital organs"),
    SexRule(Sex.MALE, parse_ranges("D40"), "Category D40: Neoplasm of uncertain behavior of male genital organs"),
    SexRule(Sex.MALE, parse_ranges("N40-N53"), "Block: Diseases of male genital organs (N40-N53)"),
    SexRule(Sex.FEMALE, parse_ranges("N70-N77"), "Block: Inflammatory diseases of female pelvic organs (N70-N77)"),
    SexRule(Sex.FEMALE, parse_ranges("N80-N98"), "Block: Noninflammatory disorders of female genital tract (N80-N98)"),
    SexRule(Sex.FEMALE, parse_ranges("Z33"), "Category Z33: Pregnant state"),
    SexRule(Sex.FEMALE, parse_ranges("Z34"), "Category Z34: Encounter for supervision of normal pregnancy"),
    SexRule(Sex.FEMALE, parse_ranges("Z3A"), "Category Z3A: Weeks of gestation"),
    SexRule(Sex.FEMALE, parse_ranges("Z39"), "Category Z39: Encounter for maternal postpartum care and examination"),
)  # fmt: skip


def sex_conflict(code: str, sex: Sex) -> SexRule | None:
    """The rule `code` breaks for a patient of `sex`, if any."""
    if sex is Sex.UNKNOWN:
        return None
    for rule in SEX_RULES:
        if rule.sex is not sex and any(code in code_range for code_range in rule.ranges):
            return rule
    return None
