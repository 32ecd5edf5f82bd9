"""A coded encounter read back as FHIR R4: the Encounter with its diagnoses, and its claim and
payment as Claim and ExplanationOfBenefit. Only codes, ids and amounts: no demographics, no
note text (the hospital has them), and no CPT descriptions (AMA-licensed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.events.intake import EncounterDocument

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CPT = "http://www.ama-assn.org/go/cpt"
PCN = "urn:chartflow:patient-control-number"  # CLM01 of the 837, CLP01 of the payer's 835
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
STATUS_TAGS = "urn:chartflow:encounter-status"
ACT_CODES = {"inpatient": "IMP", "emergency": "EMER", "outpatient": "AMB", "professional": "AMB"}
#: The claim status → ExplanationOfBenefit.outcome: adjudicated, or stopped before the payer.
OUTCOMES = {
    "paid": "complete",
    "partially_paid": "complete",
    "denied": "complete",
    "reversed": "complete",
    "rejected": "error",
    "submission_failed": "error",
}
RETURN_REASONS = "urn:chartflow:return-reason"
PATIENT = {"display": "the patient of this encounter (held by the hospital)"}


@dataclass
class EncounterRecord:
    """What intake keeps of an encounter, as read-back needs it."""

    id: str
    status: str
    document: EncounterDocument
    identifier: tuple[str, str]
    received_at: datetime
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    procedures: list[dict[str, Any]] = field(default_factory=list)
    claim_id: str | None = None
    claim_pcn: str | None = None
    claim_status: str | None = None
    claim_reason: str | None = None
    claim_total: str | None = None
    claim_paid: str | None = None
    return_reason: str | None = None  # a coder's reason code, when the encounter came back
    provider_name: str = ""
    provider_npi: str = ""


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _money(value: str | Decimal | None) -> dict[str, Any]:
    return {"value": float(Decimal(str(value or 0))), "currency": "USD"}


def encounter_resource(record: EncounterRecord) -> dict[str, Any]:
    doc = record.document
    period = {"start": doc.service_date.isoformat()}
    if doc.discharge_date:
        period["end"] = doc.discharge_date.isoformat()
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"dx{n}",
            "code": _coding(ICD10CM, d["code"]),
            "subject": PATIENT,
        }
        for n, d in enumerate(record.diagnoses, start=1)
    ]
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": record.id,
        "meta": {"tag": [{"system": STATUS_TAGS, "code": record.status}]},
        "identifier": [{"system": record.identifier[0], "value": record.identifier[1]}],
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": ACT_CODES[doc.encounter_class],
        },
        "period": period,
    }
    if record.return_reason:  # returned uncoded: why, as a code (the coder's note stays out)
        resource["extension"] = [{"url": RETURN_REASONS, "valueCode": record.return_reason}]
    if conditions:
        resource["contained"] = conditions
        resource["diagnosis"] = [
            {
                "condition": {"reference": f"#{c['id']}"},
                "use": _coding("http://terminology.hl7.org/CodeSystem/diagnosis-role", "billing"),
                "rank": n,
            }
            for n, c in enumerate(conditions, start=1)
        ]
    return resource


def _common(record: EncounterRecord, kind: str) -> dict[str, Any]:
    institutional = record.document.encounter_class != "professional"
    resource: dict[str, Any] = {
        "resourceType": kind,
        "id": record.claim_id,
        "status": "active",
        "type": _coding(
            "http://terminology.hl7.org/CodeSystem/claim-type",
            "institutional" if institutional else "professional",
        ),
        "use": "claim",
        "patient": PATIENT,
        "created": record.received_at.isoformat(),
        "provider": {
            "identifier": {
                "system": "http://hl7.org/fhir/sid/us-npi",
                "value": record.provider_npi,
            },
            "display": record.provider_name,
        },
    }
    if record.claim_pcn:  # how the hospital's billing system and the payer know the claim
        resource["identifier"] = [{"system": PCN, "value": record.claim_pcn}]
    return resource


def _items(record: EncounterRecord) -> list[dict[str, Any]]:
    charges = {c.code: c for c in record.document.charges if c.code}
    items = []
    for p in record.procedures:
        if len(p["code"]) == 7:  # ICD-10-PCS: Claim.procedure, not a line
            continue
        system = CPT if p["code"][:1].isdigit() else HCPCS
        item: dict[str, Any] = {
            "productOrService": _coding(system, p["code"]),
            "quantity": {"value": p.get("units", 1)},
        }
        if p.get("modifiers"):
            item["modifier"] = [_coding(system, m) for m in p["modifiers"]]
        charge = charges.get(p["code"])
        if charge is not None:
            item["net"] = _money(charge.charge * p.get("units", 1) / charge.units)
            if charge.revenue_code:
                item["revenue"] = _coding(REVENUE, charge.revenue_code)
        items.append(item)
    if record.document.encounter_class != "professional":
        for c in record.document.charges:
            if c.code is None and c.revenue_code:
                items.append(
                    {
                        "revenue": _coding(REVENUE, c.revenue_code),
                        "productOrService": _coding(REVENUE, c.revenue_code),
                        "quantity": {"value": c.units},
                        "net": _money(c.charge),
                    }
                )
    return [{"sequence": n, **item} for n, item in enumerate(items, start=1)]


def claim_resource(record: EncounterRecord) -> dict[str, Any]:
    inpatient = record.document.encounter_class == "inpatient"
    diagnoses = []
    for n, d in enumerate(record.diagnoses, start=1):
        entry: dict[str, Any] = {
            "sequence": n,
            "diagnosisCodeableConcept": _coding(ICD10CM, d["code"]),
        }
        if inpatient and d.get("poa"):
            entry["onAdmission"] = _coding("urn:chartflow:poa", d["poa"])
        diagnoses.append(entry)
    procedures = [
        {"sequence": n, "procedureCodeableConcept": _coding(ICD10PCS, p["code"])}
        for n, p in enumerate((p for p in record.procedures if len(p["code"]) == 7), start=1)
    ]
    resource = {
        **_common(record, "Claim"),
        "priority": _coding("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "insurance": [
            {
                "sequence": 1,
                "focal": True,
                "coverage": {"display": record.document.coverage.payer_name},
            }
        ],
        "diagnosis": diagnoses,
        "item": _items(record),
        "total": _money(record.claim_total),
    }
    if procedures:
        resource["procedure"] = procedures
    return resource


def explanation_of_benefit(record: EncounterRecord) -> dict[str, Any]:
    adjudication = "http://terminology.hl7.org/CodeSystem/adjudication"
    resource = {
        **_common(record, "ExplanationOfBenefit"),
        # A reversal withdraws the payer's earlier adjudication of the claim.
        "status": "cancelled" if record.claim_status == "reversed" else "active",
        "insurer": {"display": record.document.coverage.payer_name},
        "outcome": OUTCOMES.get(record.claim_status or "", "queued"),
        "disposition": f"{record.claim_status}: {record.claim_reason or ''}".strip(": "),
        "claim": {"reference": f"Claim/{record.claim_id}"},
        "insurance": [
            {"focal": True, "coverage": {"display": record.document.coverage.payer_name}}
        ],
        "total": [
            {"category": _coding(adjudication, "submitted"), "amount": _money(record.claim_total)}
        ],
    }
    if record.claim_paid is not None:
        resource["total"].append(
            {"category": _coding(adjudication, "benefit"), "amount": _money(record.claim_paid)}
        )
        resource["payment"] = {"amount": _money(record.claim_paid)}
    return resource
