"""Present-on-admission (POA) indicators for inpatient diagnoses.

Y present at admission, N not present, U documentation insufficient, W clinically undetermined,
1 exempt from POA reporting (the claims writer sends it as a blank on the 837I, as 5010 asks).
Codes on the CMS POA-exempt list need no indicator. When that list is installed it is used as
is; otherwise a small built-in set of whole categories stands in (see BUILTIN_EXEMPT), which is
why "1" on a code outside it is only a warning then.
"""

from __future__ import annotations

from services.coding.domain.codesets import CodeTables
from services.coding.domain.findings import Finding, Rule, error, warning

POA_VALUES = frozenset({"Y", "N", "U", "W", "1"})

# Categories (and one subcategory) whose every code is on the CMS FY2025 POA-exempt list
# (POAexemptCodesFY25.txt, checked by hand); a deliberately small stand-in for the full list.
BUILTIN_EXEMPT: tuple[str, ...] = (
    "B90", "B91", "B92", "B94",  # sequelae of infectious and parasitic diseases
    "E64",  # sequelae of malnutrition and other nutritional deficiencies
    "I25.2",  # old myocardial infarction
    "I69",  # sequelae of cerebrovascular disease
    "Z38",  # liveborn infants according to place of birth and type of delivery
    "Z39",  # encounter for maternal postpartum care and examination
    "Z43", "Z44", "Z45", "Z46", "Z47", "Z48",  # attention to openings, devices, aftercare
    "Z51", "Z52",  # other aftercare; donors
    "Z55", "Z56", "Z57",  # problems related to education, employment, occupational exposure
)  # fmt: skip


def is_poa_exempt(code: str, tables: CodeTables) -> bool:
    if tables.poa_exempt is not None:
        return code in tables.poa_exempt
    return code.startswith(BUILTIN_EXEMPT)


def check_poa(code: str, poa: str | None, principal: bool, tables: CodeTables) -> list[Finding]:
    indicator = (poa or "").strip().upper()
    exempt = is_poa_exempt(code, tables)
    which = "principal diagnosis" if principal else "diagnosis"
    if not indicator:
        if exempt:
            return []
        return [
            error(
                Rule.ICD_POA_MISSING,
                code,
                f"Inpatient {which} {code} needs a present-on-admission indicator: "
                "Y (present), N (not present), U (documentation insufficient) or "
                "W (clinically undetermined).",
            )
        ]
    if indicator not in POA_VALUES:
        return [
            error(
                Rule.ICD_POA_INVALID,
                code,
                f"POA indicator {poa!r} on {code} is not one of Y, N, U, W or 1.",
            )
        ]
    if indicator == "1" and not exempt:
        if tables.poa_exempt is not None:
            return [
                error(
                    Rule.ICD_POA_EXEMPT_MISUSE,
                    code,
                    f"{code} is not on the CMS POA-exempt list, so it cannot take POA '1'; "
                    "report Y, N, U or W.",
                )
            ]
        return [
            warning(
                Rule.ICD_POA_EXEMPT_MISUSE,
                code,
                f"POA '1' means exempt, and {code} is not in the built-in exempt categories; "
                "confirm it is on the CMS POA-exempt list, or report Y, N, U or W.",
            )
        ]
    return []
