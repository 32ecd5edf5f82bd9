"""The parts of an encounter document read from FHIR resources: people, coverage, providers,
charges and the inpatient stay. Each reader records where every value came from (`Sources`),
so a document that does not validate names the FHIR element at fault."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.intake.domain.fhir_bundle import Conditional, Entry

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TAX_ID_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"
CPT_SYSTEMS = {"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12"}
HCPCS_SYSTEMS = {
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "urn:oid:2.16.840.1.113883.6.285",
    "urn:oid:2.16.840.1.113883.6.14",
}
REVENUE_SYSTEMS = {
    "https://www.nubc.org/CodeSystem/RevenueCodes",
    "http://www.nubc.org/revenue-code",
    "urn:oid:2.16.840.1.113883.6.301.3",
}
NUBC = "https://www.nubc.org/CodeSystem/"
SEX = {"female": "F", "male": "M"}
RELATIONSHIP = {"self": "self", "spouse": "spouse", "child": "child"}
PARTICIPANT_ROLES = {
    "ATND": "attending",
    "REF": "referring",
    "PPRF": "rendering",
    "SPRF": "rendering",
    "PART": "rendering",
}
#: Encounter.hospitalization.admitSource (FHIR) → NUBC point of origin.
ADMIT_SOURCES = {
    "hosp-trans": "4",
    "emd": "1",
    "outp": "2",
    "gp": "2",
    "mp": "2",
    "nursing": "5",
    "psych": "6",
    "rehab": "6",
    "born": "9",
    "other": "9",
}
#: Encounter.hospitalization.dischargeDisposition (FHIR) → NUBC patient discharge status.
DISCHARGE_DISPOSITIONS = {
    "home": "01",
    "alt-home": "01",
    "hosp": "02",
    "snf": "03",
    "other-hcf": "05",
    "aadvice": "07",
    "exp": "20",
    "rehab": "62",
    "long": "63",
    "psy": "65",
    "oth": "70",
}
#: Encounter.priority (v3 ActPriority) → NUBC priority (type) of admission.
PRIORITIES = {"EM": "1", "UR": "2", "EL": "3", "R": "3"}

Sources = dict[str, str]  # encounter document field → FHIR expression it came from


def obj(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (absent or malformed element)."""
    return value if isinstance(value, dict) else {}


def pick(items: Any, uses: tuple[str, ...]) -> tuple[dict[str, Any], int]:
    """The first item with a preferred `use` (else the first item) and its position."""
    listed = [i for i in items or [] if isinstance(i, dict)] if isinstance(items, list) else []
    for use in uses:
        for n, item in enumerate(listed):
            if item.get("use") == use:
                return item, n
    return (listed[0], 0) if listed else ({}, 0)


def codes(concept: Any) -> list[tuple[str, str]]:
    """(system, code) of every coding of a CodeableConcept (or of one Coding)."""
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding") if "coding" in concept else [concept]
    return [
        (str(c.get("system") or ""), str(c["code"]))
        for c in codings or []
        if isinstance(c, dict) and c.get("code")
    ]


def nubc_or_mapped(concept: Any, mapped: dict[str, str], nubc_name: str) -> str | None:
    for system, code in codes(concept):
        if system == NUBC + nubc_name:
            return code
    return next((mapped[code] for _, code in codes(concept) if code in mapped), None)


def person(entry: Entry, prefix: str, sources: Sources) -> dict[str, Any]:
    """Name, birth date, sex and home address of a Patient or RelatedPerson."""
    r = entry.resource
    name, n = pick(r.get("name"), ("official", "usual"))
    address, a = pick(r.get("address"), ("home",))
    lines = [str(x) for x in address.get("line") or []]
    sources.update(
        {
            f"{prefix}.first_name": entry.at(f"name[{n}].given[0]"),
            f"{prefix}.last_name": entry.at(f"name[{n}].family"),
            f"{prefix}.birth_date": entry.at("birthDate"),
            f"{prefix}.sex": entry.at("gender"),
            f"{prefix}.address.line1": entry.at(f"address[{a}].line[0]"),
            f"{prefix}.address.line2": entry.at(f"address[{a}].line[1]"),
            f"{prefix}.address.city": entry.at(f"address[{a}].city"),
            f"{prefix}.address.state": entry.at(f"address[{a}].state"),
            f"{prefix}.address.zip": entry.at(f"address[{a}].postalCode"),
            f"{prefix}.address": entry.at(f"address[{a}]"),
            prefix: entry.path,
        }
    )
    postal = re.sub(r"[-\s]", "", str(address.get("postalCode") or "")) or None
    state = address.get("state")
    return {
        "first_name": (name.get("given") or [None])[0],
        "last_name": name.get("family"),
        "birth_date": r.get("birthDate"),
        "sex": SEX.get(str(r.get("gender")), "U"),
        "address": {
            "line1": lines[0] if lines else None,
            "line2": lines[1] if len(lines) > 1 else None,
            "city": address.get("city"),
            "state": state.upper() if isinstance(state, str) else state,
            "zip": postal,
        },
    }


def identifier_value(target: Entry | Conditional | None, system: str | None = None) -> str | None:
    """The value of the target's identifier in `system` (any system when None)."""
    if isinstance(target, Conditional):
        return target.value if system is None or target.system in (system, None) else None
    if isinstance(target, Entry):
        for sys, value in target.identifiers():
            if system is None or sys == system:
                return value
    return None


def payer_id(target: Entry | Conditional | None, system: str | None) -> str | None:
    """A payer Organization's id: in the configured system, else its first non-NPI/TIN one."""
    if system:
        return identifier_value(target, system)
    if isinstance(target, Entry):
        ids = target.identifiers()
        preferred = [v for s, v in ids if s not in (NPI_SYSTEM, TAX_ID_SYSTEM)]
        return next(iter(preferred or [v for _, v in ids]), None)
    return identifier_value(target)


def practitioner_name(entry: Entry) -> str | None:
    name, _ = pick(entry.resource.get("name"), ("official", "usual"))
    if name.get("text"):
        return str(name["text"])[:100]
    parts = [*(name.get("prefix") or []), *(name.get("given") or []), name.get("family") or ""]
    text = " ".join(str(p) for p in parts if p).strip()
    return text[:100] or None


def money(value: Any) -> Decimal | None:
    if not isinstance(value, dict) or value.get("value") is None:
        return None
    try:
        return Decimal(str(value["value"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
    except InvalidOperation:
        return None


def charge_line(concepts: list[Any], quantity: Any, price: Decimal | None) -> dict[str, Any]:
    """A chargemaster line from the codings of a ChargeItem or Claim item."""
    line: dict[str, Any] = {"charge": price}
    for system, code in [c for concept in concepts for c in codes(concept)]:
        if system in CPT_SYSTEMS | HCPCS_SYSTEMS and "code" not in line:
            line["code"] = code
        elif system in REVENUE_SYSTEMS and "revenue_code" not in line:
            line["revenue_code"] = code
    units = quantity.get("value") if isinstance(quantity, dict) else None
    if units is not None:
        line["units"] = units
    return line


def hour(moment: Any) -> str | None:
    """HHMM of a FHIR dateTime as written (the hospital's local time), None for a bare date."""
    match = re.match(r"^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2})", str(moment or ""))
    return f"{match.group(1)}{match.group(2)}" if match else None


def day(moment: Any) -> str | None:
    """The date part of a FHIR date or dateTime; None for a partial date (year or month)."""
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", str(moment or ""))
    return match.group(1) if match else None


def admission(encounter: Entry, sources: Sources) -> dict[str, Any]:
    """The inpatient stay (NUBC codes) of an Encounter's hospitalization and period."""
    r = encounter.resource
    stay, period = obj(r.get("hospitalization")), obj(r.get("period"))
    sources.update(
        {
            "admission.type": encounter.at("priority"),
            "admission.source": encounter.at("hospitalization.admitSource"),
            "admission.hour": encounter.at("period.start"),
            "admission.discharge_status": encounter.at("hospitalization.dischargeDisposition"),
            "admission.discharge_hour": encounter.at("period.end"),
        }
    )
    stay_admission: dict[str, Any] = {
        "type": nubc_or_mapped(r.get("priority"), PRIORITIES, "PriorityTypeOfAdmitOrVisit") or "9",
        "source": nubc_or_mapped(stay.get("admitSource"), ADMIT_SOURCES, "PointOfOrigin") or "9",
        "discharge_status": nubc_or_mapped(
            stay.get("dischargeDisposition"), DISCHARGE_DISPOSITIONS, "PatDischargeStatus"
        ),
        "discharge_hour": hour(period.get("end")),
    }
    if hour(period.get("start")):
        stay_admission["hour"] = hour(period.get("start"))
    return stay_admission
