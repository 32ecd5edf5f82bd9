"""A hospital's intake settings: which FHIR encounters to accept, how HL7 feeds map and when an
HL7 visit is complete. Admins set them through `PUT /v1/admin/hospitals/{id}/intake-settings`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.bounds import PlainName
from shared.events.intake import EncounterClass

#: A code or identifier value a hospital's system sends (class codes, NPIs, MSH-4 facilities).
SourceCode = Annotated[PlainName, Field(max_length=200)]
PayerId = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,80}$")]  # as Coverage.payer_id
PayerName = Annotated[PlainName, Field(min_length=1, max_length=60)]  # as Coverage.payer_name

#: FHIR Encounter.class (v3 ActCode) → Chartflow encounter class.
DEFAULT_FHIR_CLASSES: dict[str, EncounterClass] = {
    "AMB": "professional",
    "VR": "professional",
    "EMER": "emergency",
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "OBSENC": "outpatient",
    "SS": "outpatient",
}
#: HL7 v2 PV1-2 patient class (table 0004) → Chartflow encounter class.
DEFAULT_HL7_CLASSES: dict[str, EncounterClass] = {
    "I": "inpatient",
    "O": "outpatient",
    "E": "emergency",
}


class FhirRules(BaseModel):
    """Which Encounters of a Bundle this hospital's contract covers."""

    model_config = ConfigDict(extra="forbid")

    classes: dict[SourceCode, EncounterClass] = Field(
        default_factory=lambda: dict(DEFAULT_FHIR_CLASSES),
        max_length=100,
        description="accepted Encounter.class codes and the Chartflow class each becomes",
    )
    period_from: date | None = Field(default=None, description="earliest Encounter.period.start")
    period_to: date | None = Field(default=None, description="latest Encounter.period.start")
    require_finished: bool = Field(default=True, description="only Encounter.status finished")
    service_providers: list[SourceCode] = Field(
        default_factory=list,
        max_length=100,
        description="identifier values (e.g. NPI) of accepted Encounter.serviceProvider; "
        "empty accepts any",
    )
    payer_identifier_system: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^\S+$",
        description="which payer Organization.identifier is the payer id",
    )


class Hl7Rules(BaseModel):
    """How this hospital's HL7 v2 feed maps, and when a visit is complete."""

    model_config = ConfigDict(extra="forbid")

    sending_facilities: list[SourceCode] = Field(
        default_factory=list, max_length=20, description="MSH-4 values that are this hospital"
    )
    patient_classes: dict[SourceCode, EncounterClass] = Field(
        default_factory=lambda: dict(DEFAULT_HL7_CLASSES), max_length=100
    )
    release: Literal["discharge_and_notes", "quiet_period"] = Field(
        default="discharge_and_notes",
        description="discharge_and_notes: released once A03 and a note arrived; quiet_period: "
        "additionally waits until no message came for quiet_seconds (late charges)",
    )
    quiet_seconds: float = Field(default=300, ge=0, le=7 * 86400)


class HospitalIntakeSettings(BaseModel):
    """Everything an admin sets for one hospital's FHIR, HL7 and bulk intake."""

    model_config = ConfigDict(extra="forbid")

    fhir: FhirRules = Field(default_factory=FhirRules)
    hl7: Hl7Rules = Field(default_factory=Hl7Rules)
    payers: dict[PayerId, PayerName] = Field(
        default_factory=dict,
        max_length=500,
        description="payer id → payer name, for payers named only by identifier",
    )


def fhir_rule_refusal(
    rules: FhirRules,
    class_code: str | None,
    status: str | None,
    start: date | None,
    provider_ids: list[str] | None,
) -> str | None:
    """Why the rule does not accept this encounter, or None when it does.

    `provider_ids` is None when the rule needs no service provider or it could not be read.
    """
    if class_code not in rules.classes:
        return f"class {class_code} is not among the accepted classes"
    if rules.require_finished and status != "finished":
        return f"status is {status}, not finished"
    if start is not None and rules.period_from and start < rules.period_from:
        return f"period starts before {rules.period_from}"
    if start is not None and rules.period_to and start > rules.period_to:
        return f"period starts after {rules.period_to}"
    if rules.service_providers and not set(provider_ids or []) & set(rules.service_providers):
        return "service provider is not among the accepted ones"
    return None
