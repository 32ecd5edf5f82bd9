"""The coding domain as pure code: ICD-10-CM, procedure and encounter validation, code search,
accuracy scoring. Importing it is cheap; the ICD-10-CM data loads on first use.
"""

from services.coding.domain.accuracy import AccuracyScore, CodeSetScore, score_accuracy
from services.coding.domain.codesets import CodeTables, current_tables, use_codeset_dir
from services.coding.domain.encounter import (
    Diagnosis,
    EncounterClass,
    EncounterInput,
    EncounterShapeError,
    Patient,
    ProcedureLine,
    Sex,
    parse_encounter,
)
from services.coding.domain.findings import Finding, Rule, Severity, ValidationResult
from services.coding.domain.icd10cm import normalize_icd10cm
from services.coding.domain.search import SearchHit, search_codes
from services.coding.domain.validation import validate_encounter

__all__ = [
    "AccuracyScore",
    "CodeSetScore",
    "CodeTables",
    "Diagnosis",
    "EncounterClass",
    "EncounterInput",
    "EncounterShapeError",
    "Finding",
    "Patient",
    "ProcedureLine",
    "Rule",
    "SearchHit",
    "Severity",
    "Sex",
    "ValidationResult",
    "current_tables",
    "normalize_icd10cm",
    "parse_encounter",
    "score_accuracy",
    "search_codes",
    "use_codeset_dir",
    "validate_encounter",
]
