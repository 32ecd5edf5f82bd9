"""An HL7 v2 visit assembled from several messages matched by visit number (PV1-19): ADT^A03
gives the patient, stay, providers and insurance; DFT^P03 the charges; MDM^T02 the notes.
Once the hospital's rule says the visit is complete it becomes an encounter document."""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field

from services.intake.domain.hl7_message import Hl7Error, Message, field_of

SEX = {"F": "F", "M": "M"}
RELATIONSHIP = {"SEL": "self", "01": "self", "SPO": "spouse", "02": "spouse", "CHD": "child"}
REVENUE_SYSTEMS = {"RC", "UB04", "NUBC", "HL70456"}
NOTE_KINDS = {
    "DS": "discharge_summary",
    "PN": "progress_note",
    "OP": "operative_report",
    "HP": "history_and_physical",
    "CN": "consult_note",
    "ED": "ed_note",
    "PR": "procedure_note",
}


class VisitState(BaseModel):
    """What the messages of one visit said so far (stored encrypted: it is PHI)."""

    patient: dict[str, Any] | None = None
    patient_class: str | None = None
    stay: dict[str, str] = Field(default_factory=dict)
    providers: list[dict[str, str]] = Field(default_factory=list)
    coverage: dict[str, Any] | None = None
    diagnoses: list[str] = Field(default_factory=list)
    procedures: list[str] = Field(default_factory=list)
    charges: dict[str, dict[str, Any]] = Field(default_factory=dict)
    notes: dict[str, dict[str, str]] = Field(default_factory=dict)
    discharged: bool = False

    @property
    def complete(self) -> bool:
        """Discharged, with at least one note."""
        return self.discharged and bool(self.notes)


def visit_number(message: Message) -> str:
    number = message.get("PV1", 19)
    if not number:
        raise_errors([Hl7Error("PV1^1^19", "101", "PV1-19 visit number is required")])
    return number


class MessageErrors(Exception):
    """The message was understood but its content cannot be used: ACK with AE."""

    def __init__(self, errors: list[Hl7Error]) -> None:
        super().__init__("; ".join(e.text for e in errors))
        self.errors = errors


def raise_errors(errors: list[Hl7Error]) -> None:
    if errors:
        raise MessageErrors(errors)


def _date(value: str, location: str, name: str, errors: list[Hl7Error]) -> str | None:
    match = re.match(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?", value)
    if not value:
        return None
    if not match:
        errors.append(Hl7Error(location, "102", f"{name} is not a date (YYYYMMDD[HHMM])"))
        return None
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}"


def _hour(value: str) -> str | None:
    match = re.match(r"^\d{8}(\d{4})", value)
    return match.group(1) if match else None


def merge(state: VisitState, message: Message) -> None:
    """Fold one message into the visit; `MessageErrors` when its content is unusable."""
    errors: list[Hl7Error] = []
    if not message.has("PID"):
        errors.append(Hl7Error("PID", "100", "a PID segment is required"))
    if not message.has("PV1"):
        errors.append(Hl7Error("PV1", "100", "a PV1 segment is required"))
    raise_errors(errors)
    _patient(state, message, errors)
    _visit(state, message, errors)
    kind = message.kind[0]
    if kind == "ADT":
        _discharge(state, message, errors)
    elif kind == "DFT":
        _charges(state, message, errors)
    elif kind == "MDM":
        _note(state, message, errors)
    raise_errors(errors)


def _patient(state: VisitState, m: Message, errors: list[Hl7Error]) -> None:
    birth = _date(m.get("PID", 7), "PID^1^7", "PID-7 birth date", errors)
    state.patient = {
        "first_name": m.get("PID", 5, 2) or None,
        "last_name": m.get("PID", 5, 1) or None,
        "birth_date": birth,
        "sex": SEX.get(m.get("PID", 8), "U"),
        "address": {
            "line1": m.get("PID", 11, 1) or None,
            "line2": m.get("PID", 11, 2) or None,
            "city": m.get("PID", 11, 3) or None,
            "state": m.get("PID", 11, 4).upper() or None,
            "zip": re.sub(r"[-\s]", "", m.get("PID", 11, 5)) or None,
        },
    }


def _visit(state: VisitState, m: Message, errors: list[Hl7Error]) -> None:
    if m.get("PV1", 2):
        state.patient_class = m.get("PV1", 2)
    admitted = _date(m.get("PV1", 44), "PV1^1^44", "PV1-44 admit date/time", errors)
    if admitted:
        state.stay["admitted"] = admitted
        state.stay["admit_hour"] = _hour(m.get("PV1", 44)) or ""
    for field, key in ((4, "admission_type"), (14, "admit_source"), (10, "service")):
        if m.get("PV1", field):
            state.stay[key] = m.get("PV1", field)
    for field, role in ((7, "attending"), (8, "referring")):
        npi = m.get("PV1", field, 1)
        if re.fullmatch(r"\d{10}", npi) and all(p["npi"] != npi for p in state.providers):
            name = " ".join(x for x in (m.get("PV1", field, 3), m.get("PV1", field, 2)) if x)
            state.providers.append({"npi": npi, "role": role, "name": name})


def _discharge(state: VisitState, m: Message, errors: list[Hl7Error]) -> None:
    discharged = _date(m.get("PV1", 45), "PV1^1^45", "PV1-45 discharge date/time", errors)
    if not discharged:
        if not errors:
            errors.append(Hl7Error("PV1^1^45", "101", "PV1-45 discharge date/time is required"))
        return
    state.stay["discharged"] = discharged
    state.stay["discharge_hour"] = _hour(m.get("PV1", 45)) or ""
    if m.get("PV1", 36):
        state.stay["disposition"] = m.get("PV1", 36).zfill(2)
    state.discharged = True
    if m.has("IN1"):
        state.coverage = _coverage(m, errors)
    for seg in m.segments("DG1"):
        state.diagnoses.append(_coded(seg, 3))
    for seg in m.segments("PR1"):
        state.procedures.append(_coded(seg, 3))


def _coded(segment: Any, field: int) -> str:
    code, text, system = (field_of(segment, field, n) for n in (1, 2, 3))
    return f"{text or '(no text)'} ({system or 'code'} {code})"


def _coverage(m: Message, errors: list[Hl7Error]) -> dict[str, Any]:
    relationship = RELATIONSHIP.get(m.get("IN1", 17), "other" if m.get("IN1", 17) else "self")
    coverage: dict[str, Any] = {
        "payer_id": m.get("IN1", 3) or None,
        "payer_name": m.get("IN1", 4) or None,
        "member_id": m.get("IN1", 36) or m.get("IN1", 49) or None,
        "relationship": relationship,
    }
    if relationship != "self":
        coverage["subscriber"] = {
            "first_name": m.get("IN1", 16, 2) or None,
            "last_name": m.get("IN1", 16, 1) or None,
            "birth_date": _date(
                m.get("IN1", 18), "IN1^1^18", "IN1-18 insured's birth date", errors
            ),
            "sex": SEX.get(m.get("IN1", 43), "U"),
            "address": {
                "line1": m.get("IN1", 19, 1) or None,
                "city": m.get("IN1", 19, 3) or None,
                "state": m.get("IN1", 19, 4).upper() or None,
                "zip": re.sub(r"[-\s]", "", m.get("IN1", 19, 5)) or None,
            },
        }
    return coverage


def _charges(state: VisitState, m: Message, errors: list[Hl7Error]) -> None:
    if not m.has("FT1"):
        errors.append(Hl7Error("FT1", "100", "a DFT^P03 needs FT1 segments"))
    for n, seg in enumerate(m.segments("FT1"), start=1):
        f = functools.partial(field_of, seg)
        where = f"FT1^{n}"
        if f(6) and f(6) != "CG":
            errors.append(Hl7Error(f"{where}^6", "103", "only FT1-6 transaction type CG"))
            continue
        try:
            units = int(Decimal(f(10) or "1"))
            amount = Decimal(f(11) or "0") or Decimal(f(12) or "0") * units
        except InvalidOperation:
            errors.append(Hl7Error(f"{where}^11", "102", "FT1-10/11/12 must be numbers"))
            continue
        line: dict[str, Any] = {"charge": str(amount.quantize(Decimal("0.01"))), "units": units}
        if f(25):
            line["code"] = f(25)
        if f(7, 3).upper() in REVENUE_SYSTEMS:
            line["revenue_code"] = f(7)
        if "code" not in line and "revenue_code" not in line:
            errors.append(
                Hl7Error(f"{where}^25", "101", "FT1-25 procedure code or a revenue code in FT1-7")
            )
            continue
        key = f(2) or f"{m.header.control_id}/{n}"
        state.charges[key] = line


def _note(state: VisitState, m: Message, errors: list[Hl7Error]) -> None:
    lines = [
        text.replace("\r", "\n") for seg in m.segments("OBX") for text in m.repetitions(seg, 5)
    ]
    text = "\n".join(line for line in lines if line.strip()).strip()
    if not text:
        errors.append(Hl7Error("OBX^1^5", "101", "the note text (OBX-5) is required"))
        return
    key = m.get("TXA", 12) or m.header.control_id
    kind = NOTE_KINDS.get(m.get("TXA", 2).upper(), "clinical_note")
    state.notes[key] = {"kind": kind, "text": text}
