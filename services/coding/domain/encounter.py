"""The coded encounter as validation sees it, parsed from the JSON document other services send.

Shape (`poa`, `modifiers`, `units`, `dx_pointers` and `age` optional; `procedures` may be left out):

    {"encounter_class": "inpatient|outpatient|emergency|professional",
     "patient": {"sex": "F|M|U", "age": 47},
     "diagnoses": [{"code": "E11.9", "poa": "Y"}],
     "procedures": [{"code": "99214", "modifiers": ["25"], "units": 1, "dx_pointers": [1]}]}

Parsing checks the shape only (types, required fields, known enum values). Whether a code,
a POA value or a pointer is *right* is validation's job and comes back as findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

_E = TypeVar("_E", bound=StrEnum)


class EncounterClass(StrEnum):
    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"
    EMERGENCY = "emergency"
    PROFESSIONAL = "professional"

    @property
    def institutional(self) -> bool:
        """Facility claims (837I); professional services go on an 837P."""
        return self is not EncounterClass.PROFESSIONAL


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


@dataclass(frozen=True, slots=True)
class Patient:
    sex: Sex
    age: int | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    poa: str | None = None


@dataclass(frozen=True, slots=True)
class ProcedureLine:
    code: str
    modifiers: tuple[str, ...] = ()
    units: float | None = None
    dx_pointers: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class EncounterInput:
    encounter_class: EncounterClass
    patient: Patient
    diagnoses: tuple[Diagnosis, ...]
    procedures: tuple[ProcedureLine, ...] = field(default=())


class EncounterShapeError(ValueError):
    """The document does not have the expected shape; `field` names the offending field."""

    def __init__(self, field_path: str, problem: str) -> None:
        super().__init__(f"{field_path}: {problem}")
        self.field = field_path
        self.problem = problem


def parse_encounter(doc: object) -> EncounterInput:
    if not isinstance(doc, Mapping):
        raise EncounterShapeError("$", f"expected a JSON object, got {_json_type(doc)}")
    klass = _enum(doc, "encounter_class", EncounterClass, "encounter_class")
    patient_doc = _required(doc, "patient", "patient")
    if not isinstance(patient_doc, Mapping):
        raise EncounterShapeError("patient", f"expected an object, got {_json_type(patient_doc)}")
    sex = _enum(patient_doc, "sex", Sex, "patient.sex")
    age = patient_doc.get("age")
    if age is not None and (not _is_int(age) or age < 0 or age > 150):
        raise EncounterShapeError("patient.age", f"expected a whole number 0-150, got {age!r}")
    diagnoses = tuple(
        _diagnosis(item, f"diagnoses[{i}]")
        for i, item in enumerate(_list(doc, "diagnoses", "diagnoses", required=True))
    )
    procedures = tuple(
        _procedure(item, f"procedures[{i}]")
        for i, item in enumerate(_list(doc, "procedures", "procedures", required=False))
    )
    return EncounterInput(klass, Patient(sex, age), diagnoses, procedures)


def _diagnosis(item: object, path: str) -> Diagnosis:
    if not isinstance(item, Mapping):
        raise EncounterShapeError(path, f"expected an object, got {_json_type(item)}")
    code = _string(item, "code", f"{path}.code")
    poa = item.get("poa")
    if poa is not None and not isinstance(poa, str):
        raise EncounterShapeError(
            f"{path}.poa", f"expected a string or null, got {_json_type(poa)}"
        )
    return Diagnosis(code=code, poa=poa)


def _procedure(item: object, path: str) -> ProcedureLine:
    if not isinstance(item, Mapping):
        raise EncounterShapeError(path, f"expected an object, got {_json_type(item)}")
    code = _string(item, "code", f"{path}.code")
    modifiers = _list(item, "modifiers", f"{path}.modifiers", required=False)
    for j, modifier in enumerate(modifiers):
        if not isinstance(modifier, str):
            raise EncounterShapeError(
                f"{path}.modifiers[{j}]", f"expected a string, got {_json_type(modifier)}"
            )
    units = item.get("units")
    if units is not None and (isinstance(units, bool) or not isinstance(units, int | float)):
        raise EncounterShapeError(f"{path}.units", f"expected a number, got {_json_type(units)}")
    pointers: tuple[int, ...] | None = None
    if item.get("dx_pointers") is not None:
        raw = _list(item, "dx_pointers", f"{path}.dx_pointers", required=True)
        for j, pointer in enumerate(raw):
            if not _is_int(pointer):
                raise EncounterShapeError(
                    f"{path}.dx_pointers[{j}]", f"expected a whole number, got {pointer!r}"
                )
        pointers = tuple(raw)
    return ProcedureLine(code=code, modifiers=tuple(modifiers), units=units, dx_pointers=pointers)


def _required(doc: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in doc or doc[key] is None:
        raise EncounterShapeError(path, "is required")
    return doc[key]


def _string(doc: Mapping[str, Any], key: str, path: str) -> str:
    value = _required(doc, key, path)
    if not isinstance(value, str):
        raise EncounterShapeError(path, f"expected a string, got {_json_type(value)}")
    return value


def _enum(doc: Mapping[str, Any], key: str, kind: type[_E], path: str) -> _E:
    value = _string(doc, key, path)
    try:
        return kind(value.strip().lower() if kind is EncounterClass else value.strip().upper())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise EncounterShapeError(path, f"expected one of {allowed}, got {value!r}") from None


def _list(doc: Mapping[str, Any], key: str, path: str, *, required: bool) -> list[Any]:
    value = doc.get(key)
    if value is None:
        if required:
            raise EncounterShapeError(path, "is required")
        return []
    if not isinstance(value, list):
        raise EncounterShapeError(path, f"expected a list, got {_json_type(value)}")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
