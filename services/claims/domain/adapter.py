"""Turns the platform's coded-encounter document into a Claim."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import (
    Address,
    BillingProvider,
    Claim,
    ClaimType,
    Clinician,
    Diagnosis,
    InpatientStay,
    Patient,
    Payer,
    ProcedureCode,
    ServiceLine,
    Subscriber,
)

_PCS = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
_DEFAULT_POS = {"professional": "11", "outpatient": "22", "emergency": "23", "inpatient": "21"}
_DEFAULT_FACILITY = {"inpatient": "11", "outpatient": "13", "emergency": "13", "professional": "13"}


class EncounterDocumentError(ValueError):
    """The coded-encounter document is missing a field or has a malformed one."""


def claim_from_coded_encounter(doc: dict[str, Any]) -> Claim:
    """Build a Claim from a coded encounter plus billing details and coverage.

    Shape (optional keys marked ``?``; amounts are strings or numbers, dates ``YYYY-MM-DD``)::

        {
          "encounter_key": str,
          "patient_control_number": str,            # CLM01, at most 20 characters
          "claim_type": "professional" | "institutional",
          "encounter_class": "professional" | "outpatient" | "emergency" | "inpatient",
          "service_date": "YYYY-MM-DD",             # statement from / admission date
          "discharge_date"?: "YYYY-MM-DD",          # statement to (defaults to service_date)
          "billing_provider": {"name", "npi", "tax_id",
                               "address": {"line1", "line2"?, "city", "state", "zip"}},
          "rendering_npi"?: str,                    # written only with a name, see below
          "rendering_provider"?: {"npi", "last_name", "first_name"?},  # 837P 82 / 837I 71
          "payer": {"name", "payer_id", "filing_indicator"?},          # SBR09, default CI
          "subscriber": {"member_id", "first_name", "last_name", "birth_date",
                         "sex", "address": {...}},
          "patient"?: {same as subscriber without member_id, "relationship": "19"},
          "place_of_service"?: "11",                # 837P; default from encounter_class
          "facility_type"?: "11",                   # 837I type of bill digits 2-3
          "frequency"?: "1",                        # CLM05-3: 7 replacement, 8 void
          "original_reference"?: str,               # REF*F8, the payer's claim number
          "diagnoses": [{"code": "E11.9", "poa"?: "Y"}],   # first is principal
          "admitting_diagnosis"?: "R07.9",          # 837I inpatient; default principal
          "procedures": [{"code": "99214", "modifiers"?: ["25"], "units"?: 1,
                          "charge": "125.00", "dx_pointers"?: [1],
                          "revenue_code"?: "0450", "service_date"?: "YYYY-MM-DD"}],
          "admission"?: {"type": "1", "source": "7", "hour": "0830",
                         "discharge_status": "01", "discharge_hour"?: "1400"},
          "total_charge"?: "250.00",                # defaults to the sum of line charges
        }

    A ``procedures`` item with ``"code_system": "ICD-10-PCS"`` (or a seven-character code
    and no charge) is an inpatient ICD-10-PCS procedure dated by ``"date"``; every other item
    is a service line. Lines get REF*6R ids ``<patient_control_number>-<n>``.
    """
    try:
        return _build(doc)
    except KeyError as exc:
        raise EncounterDocumentError(f"coded encounter is missing field {exc}") from exc
    except (ValueError, InvalidOperation, TypeError) as exc:
        if isinstance(exc, EncounterDocumentError):
            raise
        # the exception's text may quote the value (a birth date, a name): name its kind only
        raise EncounterDocumentError(
            f"coded encounter has a malformed field ({type(exc).__name__})"
        ) from exc


def _build(doc: dict[str, Any]) -> Claim:
    claim_type = ClaimType(doc["claim_type"])
    encounter_class = doc.get("encounter_class", "professional")
    pcn = str(doc["patient_control_number"])
    service_date = _date(doc["service_date"])
    statement_to = _date(doc["discharge_date"]) if doc.get("discharge_date") else service_date

    lines: list[ServiceLine] = []
    pcs: list[ProcedureCode] = []
    for item in doc.get("procedures", []):
        if _is_pcs(item):
            pcs.append(ProcedureCode(item["code"], _date(item.get("date") or doc["service_date"])))
            continue
        lines.append(
            ServiceLine(
                line_id=f"{pcn}-{len(lines) + 1}",
                charge=Decimal(str(item["charge"])),
                units=Decimal(str(item.get("units", 1))),
                service_date=_date(item.get("service_date") or doc["service_date"]),
                procedure_code=str(item.get("code", "")).strip().upper(),
                modifiers=tuple(str(m).strip().upper() for m in item.get("modifiers", [])),
                dx_pointers=tuple(int(p) for p in item.get("dx_pointers", [])),
                revenue_code=str(item.get("revenue_code", "")),
            )
        )
    total = doc.get("total_charge")
    total_charge = (
        Decimal(str(total)) if total is not None else sum((ln.charge for ln in lines), Decimal(0))
    )
    diagnoses = tuple(
        Diagnosis(str(d["code"]).strip().upper(), str(d.get("poa", "")).upper())
        for d in doc.get("diagnoses", [])
    )
    admission = doc.get("admission")
    stay = None
    if encounter_class == "inpatient" and claim_type is ClaimType.INSTITUTIONAL:
        admission = admission or {}
        stay = InpatientStay(
            admission_date=service_date,
            admission_hour=str(admission.get("hour", "0000")),
            admission_type=str(admission.get("type", "1")),
            admission_source=str(admission.get("source", "1")),
            discharge_status=str(admission.get("discharge_status", "01")),
            discharge_hour=str(admission.get("discharge_hour", "")),
        )
    admitting = doc.get("admitting_diagnosis") or ""
    if stay is not None and not admitting and diagnoses:
        admitting = diagnoses[0].code
    return Claim(
        patient_control_number=pcn,
        claim_type=claim_type,
        billing_provider=_billing_provider(doc["billing_provider"]),
        payer=Payer(
            name=doc["payer"]["name"],
            payer_id=doc["payer"]["payer_id"],
            filing_indicator=doc["payer"].get("filing_indicator", "CI"),
        ),
        subscriber=Subscriber(
            member_id=doc["subscriber"]["member_id"], **_person(doc["subscriber"])
        ),
        patient=_patient(doc.get("patient")),
        statement_from=service_date,
        statement_to=statement_to,
        diagnoses=diagnoses,
        lines=tuple(lines),
        total_charge=total_charge,
        place_of_service=str(
            doc.get("place_of_service") or _DEFAULT_POS.get(encounter_class, "11")
        ),
        facility_type=str(doc.get("facility_type") or _DEFAULT_FACILITY.get(encounter_class, "13")),
        frequency=str(doc.get("frequency", "1")),
        original_reference=str(doc.get("original_reference", "")),
        admitting_diagnosis=str(admitting),
        procedures=tuple(pcs),
        inpatient=stay,
        visit_type=str(
            (admission or {}).get("type", "1" if encounter_class == "emergency" else "3")
        ),
        visit_source=str((admission or {}).get("source", "1")),
        rendering=_rendering(doc),
        encounter_key=str(doc.get("encounter_key", "")),
    )


def _is_pcs(item: dict[str, Any]) -> bool:
    if item.get("code_system") == "ICD-10-PCS":
        return True
    return "charge" not in item and bool(_PCS.match(str(item.get("code", "")).upper()))


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _address(raw: dict[str, Any]) -> Address:
    return Address(
        line1=raw["line1"],
        line2=raw.get("line2", ""),
        city=raw["city"],
        state=raw["state"],
        zip=str(raw["zip"]),
    )


def _person(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_name": raw["first_name"],
        "last_name": raw["last_name"],
        "birth_date": _date(raw["birth_date"]),
        "sex": str(raw.get("sex", "U")).upper()[:1],
        "address": _address(raw["address"]),
    }


def _patient(raw: dict[str, Any] | None) -> Patient | None:
    if not raw or raw.get("relationship") in (None, "", "18", "self"):
        return None
    return Patient(relationship=str(raw["relationship"]), **_person(raw))


def _billing_provider(raw: dict[str, Any]) -> BillingProvider:
    return BillingProvider(
        name=raw["name"],
        npi=str(raw["npi"]),
        tax_id=str(raw["tax_id"]),
        address=_address(raw["address"]),
    )


def _rendering(doc: dict[str, Any]) -> Clinician | None:
    raw = doc.get("rendering_provider")
    if raw and raw.get("last_name"):
        return Clinician(
            npi=str(raw.get("npi") or doc.get("rendering_npi", "")),
            last_name=raw["last_name"],
            first_name=raw.get("first_name", ""),
        )
    return None
