"""An HL7 v2 visit, once complete, as an encounter document; what cannot be billed is named by
the HL7 field it came from (ERR-2)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import ValidationError

from services.intake.domain.fhir_validate import error_element
from services.intake.domain.hl7_message import Hl7Error
from services.intake.domain.hl7_visit import MessageErrors, VisitState, raise_errors
from services.intake.domain.notes import documented
from services.intake.domain.rules import Hl7Rules
from shared.events.intake import EncounterDocument

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: HL7 table 0007 admission type → NUBC priority (type) of admission.
ADMISSION_TYPES = {"E": "1", "A": "5", "U": "2", "C": "3", "R": "3", "L": "3", "N": "4"}
PLACE_OF_SERVICE = {"professional": "11", "emergency": "23", "outpatient": "22", "inpatient": "21"}

#: Encounter document field → the HL7 field it comes from (for ERR locations).
SOURCES = {
    "patient.first_name": "PID^1^5^2",
    "patient.last_name": "PID^1^5^1",
    "patient.birth_date": "PID^1^7",
    "patient.address.line1": "PID^1^11^1",
    "patient.address.city": "PID^1^11^3",
    "patient.address.state": "PID^1^11^4",
    "patient.address.zip": "PID^1^11^5",
    "patient": "PID",
    "coverage.payer_id": "IN1^1^3",
    "coverage.payer_name": "IN1^1^4",
    "coverage.member_id": "IN1^1^36",
    "coverage.subscriber": "IN1^1^16",
    "coverage": "IN1",
    "providers": "PV1^1^7",
    "service_date": "PV1^1^44",
    "discharge_date": "PV1^1^45",
    "admission.discharge_status": "PV1^1^36",
    "admission": "PV1",
    "documents": "OBX^1^5",
    "charges": "FT1",
}


def external_id(visit: str) -> str:
    if EXTERNAL_ID.match(visit):
        return visit
    return "hl7-" + hashlib.sha256(visit.encode()).hexdigest()[:40]


def encounter_document(
    state: VisitState, visit: str, rules: Hl7Rules, payers: dict[str, str]
) -> EncounterDocument:
    """The visit as an encounter document; `MessageErrors` naming the HL7 fields otherwise."""
    encounter_class = rules.patient_classes.get(state.patient_class or "")
    if encounter_class is None:
        raise_errors(
            [Hl7Error("PV1^1^2", "103", "PV1-2 patient class is not mapped for this hospital")]
        )
    stay = state.stay
    notes = list(state.notes.values())
    if state.diagnoses:
        notes.append(
            {"kind": "documented_conditions", "text": documented("Diagnoses", state.diagnoses)}
        )
    if state.procedures:
        notes.append(
            {"kind": "documented_procedures", "text": documented("Procedures", state.procedures)}
        )
    coverage = dict(state.coverage or {})
    if coverage.get("payer_id") and not coverage.get("payer_name"):
        coverage["payer_name"] = payers.get(coverage["payer_id"], coverage["payer_id"])
    doc: dict[str, Any] = {
        "external_id": external_id(visit),
        "encounter_class": encounter_class,
        "service_date": stay.get("admitted"),
        "place_of_service": PLACE_OF_SERVICE[str(encounter_class)],
        "patient": state.patient,
        "coverage": coverage or None,
        "providers": [{k: v for k, v in p.items() if v} for p in state.providers],
        "documents": notes,
        "charges": list(state.charges.values()),
    }
    if stay.get("service"):
        doc["specialty"] = stay["service"].lower()[:60]
    if encounter_class == "inpatient":
        source = stay.get("admit_source", "9")
        doc["discharge_date"] = stay.get("discharged")
        doc["admission"] = {
            "type": ADMISSION_TYPES.get(
                stay.get("admission_type", ""), stay.get("admission_type") or "9"
            ),
            "source": "1" if source == "7" else source,
            "hour": stay.get("admit_hour") or "0800",
            "discharge_status": stay.get("disposition"),
            "discharge_hour": stay.get("discharge_hour") or None,
        }
    try:
        return EncounterDocument.model_validate(doc)
    except ValidationError as exc:
        raise MessageErrors([_error(e) for e in exc.errors(include_url=False)[:10]]) from exc


def _error(error: Any) -> Hl7Error:
    element = re.sub(r"\[\d+\]", "", error_element(error))
    key = element
    while key and key not in SOURCES:
        key = key.rpartition(".")[0]
    missing = error.get("type") == "missing" or error.get("input", 0) is None
    code = "101" if missing else "102"
    message = "is required" if missing else str(error.get("msg", "is invalid"))
    if not (error.get("ctx") or {}).get("field"):  # a cross-field message names its field
        message = f"{element}: {message}"
    return Hl7Error(SOURCES.get(key, "MSH^1^9"), code, message)
