"""The claims domain's input document, from an `encounters.coded` event."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from services.claims.domain.claim_rules import cents
from shared.events.assignment import EncounterCoded
from shared.events.intake import Person

RELATIONSHIP_CODES = {"spouse": "01", "child": "19", "other": "G8"}


def _priced(rate: Decimal, units: Decimal | int, per: Decimal | int) -> str:
    """The chargemaster prices `per` units at `rate`: the coded units at the same rate.

    Never raises: a price that cannot be computed is 0.00, which the scrubber holds
    (LINE_CHARGE), as it holds absurd ones.
    """
    try:
        price = Decimal(rate) * Decimal(units) / Decimal(per)
        return str(cents(price)) if price.is_finite() else "0.00"
    except ArithmeticError:
        return "0.00"


def patient_control_number(encounter_key: str, version: int) -> str:
    """Deterministic per encounter version, so a redelivered event can never bill twice."""
    digest = hashlib.sha256(f"{encounter_key}#{version}".encode()).hexdigest()
    return f"CF{digest[:16].upper()}"


def _person(person: Person) -> dict[str, Any]:
    return person.model_dump(mode="json", exclude_none=True)


def coded_document(coded: EncounterCoded, pcn: str) -> dict[str, Any]:
    """The claims domain's input document, from the `encounters.coded` event."""
    encounter = coded.encounter
    charges = {c.code: c for c in encounter.charges if c.code}
    coverage = encounter.coverage
    subscriber_person = coverage.subscriber or encounter.patient
    procedures = []
    for proc in coded.procedures:
        charge = charges.get(proc.code)
        line: dict[str, Any] = proc.model_dump()
        if charge is not None:
            line["charge"] = _priced(charge.charge, proc.units, charge.units)
            if charge.revenue_code:
                line["revenue_code"] = charge.revenue_code
        elif len(proc.code) == 7:
            line["code_system"] = "ICD-10-PCS"
            line["date"] = encounter.service_date.isoformat()
        else:
            line["charge"] = "0.00"  # not on the chargemaster: the scrubber holds the claim
        procedures.append(line)
    if encounter.encounter_class != "professional":
        procedures.extend(
            {"revenue_code": c.revenue_code, "charge": str(c.charge), "units": c.units}
            for c in encounter.charges
            if c.code is None
        )
    doc: dict[str, Any] = {
        "encounter_key": coded.encounter_key,
        "patient_control_number": pcn,
        "claim_type": "professional"
        if encounter.encounter_class == "professional"
        else "institutional",
        "encounter_class": encounter.encounter_class,
        "service_date": encounter.service_date.isoformat(),
        "billing_provider": coded.billing_provider.model_dump(mode="json", exclude_none=True),
        "payer": {"name": coverage.payer_name, "payer_id": coverage.payer_id},
        "subscriber": {**_person(subscriber_person), "member_id": coverage.member_id},
        "place_of_service": encounter.place_of_service,
        "diagnoses": [
            # Coding let a blank POA through only where the code is exempt: "1" says so.
            {"code": d.code, "poa": d.poa or "1"}
            if encounter.encounter_class == "inpatient"
            else d.model_dump(exclude_none=True)
            for d in coded.diagnoses
        ],
        "procedures": procedures,
    }
    if encounter.discharge_date:
        doc["discharge_date"] = encounter.discharge_date.isoformat()
    if coverage.relationship != "self":
        doc["patient"] = {
            **_person(encounter.patient),
            "relationship": RELATIONSHIP_CODES[coverage.relationship],
        }
    if encounter.admission:
        doc["admission"] = encounter.admission.model_dump(exclude_none=True)
    rendering = next((p for p in encounter.providers if p.role in ("rendering", "attending")), None)
    if rendering:
        doc["rendering_npi"] = rendering.npi
    return doc
