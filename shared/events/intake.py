"""Events produced by intake, and the encounter document hospitals push."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.envelope import EventData

EncounterClass = Literal["inpatient", "outpatient", "emergency", "professional"]


class Address(BaseModel):
    line1: str = Field(min_length=1, max_length=55)
    line2: str | None = Field(default=None, max_length=55)
    city: str = Field(min_length=2, max_length=30)
    state: str = Field(pattern="^[A-Z]{2}$")
    zip: str = Field(pattern=r"^\d{5}(\d{4})?$")


class Person(BaseModel):
    first_name: str = Field(min_length=1, max_length=35)
    last_name: str = Field(min_length=1, max_length=60)
    birth_date: date
    sex: Literal["F", "M", "U"]
    address: Address


class Coverage(BaseModel):
    payer_id: str = Field(min_length=2, max_length=80)
    payer_name: str = Field(min_length=1, max_length=60)
    member_id: str = Field(min_length=2, max_length=80)
    relationship: Literal["self", "spouse", "child", "other"] = "self"
    subscriber: Person | None = Field(
        default=None, description="The insured, when not the patient (relationship is not self)."
    )


class Provider(BaseModel):
    npi: str = Field(pattern=r"^\d{10}$")
    role: Literal["attending", "rendering", "referring", "operating"] = "attending"
    name: str | None = None


class ClinicalDocument(BaseModel):
    kind: str = Field(min_length=1, max_length=60, examples=["progress_note", "discharge_summary"])
    text: str = Field(min_length=1, max_length=200_000)


class ChargeLine(BaseModel):
    """A priced line of the hospital's chargemaster: a CPT/HCPCS code, a revenue code, or both.

    Coders attach codes; a line with only a revenue code (room and board) is billed as it is
    on institutional claims.
    """

    code: str | None = Field(default=None, min_length=5, max_length=5)
    charge: Decimal = Field(gt=0, max_digits=10, decimal_places=2)
    units: int = Field(default=1, ge=1)
    revenue_code: str | None = Field(default=None, pattern=r"^\d{4}$")

    @model_validator(mode="after")
    def _code_or_revenue_code(self) -> ChargeLine:
        if self.code is None and self.revenue_code is None:
            raise ValueError("a charge line needs a code, a revenue_code, or both")
        return self


class Admission(BaseModel):
    """Inpatient stay details the UB-04 / 837I needs (NUBC codes)."""

    type: str = Field(pattern=r"^[1-9]$", description="priority of admission, e.g. 1 emergency")
    source: str = Field(pattern=r"^[0-9A-Z]$", description="point of origin, e.g. 1 non-facility")
    hour: str = Field(default="0800", pattern=r"^([01]\d|2[0-3])[0-5]\d$")
    discharge_status: str = Field(pattern=r"^\d{2}$", description="e.g. 01 home")
    discharge_hour: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3])[0-5]\d$")


class BillingProvider(BaseModel):
    name: str
    npi: str
    tax_id: str
    address: Address


class EncounterDocument(BaseModel):
    """What a hospital pushes: `POST /v1/encounters`."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    encounter_class: EncounterClass
    specialty: str | None = Field(default=None, max_length=60)
    service_date: date
    discharge_date: date | None = None
    place_of_service: str = Field(default="11", pattern=r"^\d{2}$")
    admission: Admission | None = None
    patient: Person
    coverage: Coverage
    providers: list[Provider] = Field(min_length=1, max_length=10)
    documents: list[ClinicalDocument] = Field(min_length=1, max_length=50)
    charges: list[ChargeLine] = Field(default_factory=list, max_length=50)


class EncounterReceived(EventData):
    event_type = "chartflow.intake.encounter.received"

    encounter_key: str
    hospital_id: str
    billing_provider: BillingProvider
    encounter: EncounterDocument


class PhysicianAnswer(BaseModel):
    """The physician's answer to a query: PHI."""

    choice: str | None = Field(default=None, max_length=300)
    text: str | None = Field(default=None, max_length=4_000)


class QueryAnswered(EventData):
    """The hospital's physician answered a query; the answer becomes an addendum on the chart.

    PHI: `answer`.
    """

    event_type = "chartflow.intake.query.answered"

    query_id: str
    encounter_key: str
    hospital_id: str
    answered_by_npi: str = Field(pattern=r"^\d{10}$")
    answered_at: datetime
    answer: PhysicianAnswer
