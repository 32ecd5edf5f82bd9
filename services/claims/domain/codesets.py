"""Code-set checks pyx12 does not do: ICD-10-CM validity and NPI check digits."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import simple_icd_10_cm as icd

# simple_icd_10_cm ships the CDC April 2026 release, which belongs to fiscal year 2026.
CODESET_RELEASE = "ICD-10-CM April 2026"
CODESET_EFFECTIVE_FROM = date(2025, 10, 1)
CODESET_EFFECTIVE_TO = date(2026, 9, 30)


class DiagnosisCheck(StrEnum):
    BILLABLE = "billable"
    INVALID = "invalid"  # not an ICD-10-CM code at all
    NOT_BILLABLE = "not_billable"  # a header code: a more specific child must be used
    OUTSIDE_RELEASE = "outside_release"  # date of service outside the loaded release


def normalise_icd(code: str) -> str:
    return "".join(code.split()).upper()


def check_diagnosis(code: str, service_date: date) -> DiagnosisCheck:
    """Is ``code`` a valid, billable ICD-10-CM code for a service on ``service_date``?"""
    code = normalise_icd(code)
    if not code or not icd.is_valid_item(code):
        return DiagnosisCheck.INVALID
    billable = icd.is_leaf(code) and (
        icd.is_category_or_subcategory(code) or icd.is_extended_subcategory(code)
    )
    if not billable:
        return DiagnosisCheck.NOT_BILLABLE
    if not CODESET_EFFECTIVE_FROM <= service_date <= CODESET_EFFECTIVE_TO:
        return DiagnosisCheck.OUTSIDE_RELEASE
    return DiagnosisCheck.BILLABLE


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit computed over 80840 + the first nine."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    return npi[-1] == npi_check_digit(npi[:9])


def npi_check_digit(first_nine: str) -> str:
    total = 0
    for i, ch in enumerate(reversed("80840" + first_nine)):
        d = int(ch)
        if i % 2 == 0:  # double every second digit from the right, starting with the last
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)
