"""Events produced by intake, and the encounter document hospitals push."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.bounds import (
    MAX_AGE,
    MAX_CLAIM_TOTAL,
    NOTE_TEXT,
    LineCharge,
    PastDate,
    PlainName,
    Units,
    age_on,
    out_of_order,
)
from shared.events.envelope import EventData
from shared.events.phi import ENCOUNTER_PHI, QUERY_ANSWER_PHI, under

EncounterClass = Literal["inpatient", "outpatient", "emergency", "professional"]


class Address(BaseModel):
    line1: PlainName = Field(min_length=1, max_length=55)
    line2: PlainName | None = Field(default=None, max_length=55)
    city: PlainName = Field(min_length=2, max_length=30)
    state: str = Field(pattern="^[A-Z]{2}$")
    zip: str = Field(pattern=r"^\d{5}(\d{4})?$")


class Person(BaseModel):
    first_name: PlainName = Field(min_length=1, max_length=35)
    last_name: PlainName = Field(min_length=1, max_length=60)
    birth_date: PastDate
    sex: Literal["F", "M", "U"]
    address: Address


class Coverage(BaseModel):
    payer_id: str = Field(pattern=r"^[A-Za-z0-9]{2,80}$")
    payer_name: PlainName = Field(min_length=1, max_length=60)
    member_id: str = Field(pattern=r"^[A-Za-z0-9-]{2,80}$")
    relationship: Literal["self", "spouse", "child", "other"] = "self"
    subscriber: Person | None = Field(
        default=None, description="The insured, when not the patient (relationship is not self)."
    )


class Provider(BaseModel):
    npi: str = Field(pattern=r"^\d{10}$")
    role: Literal["attending", "rendering", "referring", "operating"] = "attending"
    name: PlainName | None = Field(default=None, max_length=60)


class ClinicalDocument(BaseModel):
    kind: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,60}$", examples=["progress_note", "discharge_summary"]
    )
    text: str = Field(min_length=1, max_length=200_000, pattern=NOTE_TEXT)


class ChargeLine(BaseModel):
    """A priced line of the hospital's chargemaster: a CPT/HCPCS code, a revenue code, or both.

    Coders attach codes; a line with only a revenue code (room and board) is billed as it is
    on institutional claims.
    """

    code: str | None = Field(default=None, pattern=r"^[A-Z0-9]{5}$")
    charge: LineCharge
    units: Units = 1
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
    name: PlainName = Field(min_length=1, max_length=60)
    npi: str = Field(pattern=r"^\d{10}$")
    tax_id: str = Field(pattern=r"^\d{9}$")
    address: Address


class EncounterDocument(BaseModel):
    """What a hospital pushes: `POST /v1/encounters`."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    encounter_class: EncounterClass
    specialty: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_ -]{1,60}$")
    service_date: PastDate
    discharge_date: PastDate | None = None
    place_of_service: str = Field(default="11", pattern=r"^\d{2}$")
    admission: Admission | None = None
    patient: Person
    coverage: Coverage
    providers: list[Provider] = Field(min_length=1, max_length=10)
    documents: list[ClinicalDocument] = Field(min_length=1, max_length=50)
    charges: list[ChargeLine] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _billable(self) -> EncounterDocument:
        """Cross-field rules; each error names its field (`ctx.field`)."""
        if self.patient.birth_date > self.service_date:
            raise out_of_order("patient.birth_date", "must not be after service_date")
        if age_on(self.patient.birth_date, self.service_date) > MAX_AGE:
            raise out_of_order("patient.birth_date", f"gives an age over {MAX_AGE}")
        subscriber = self.coverage.subscriber
        if subscriber is not None and subscriber.birth_date > self.service_date:
            raise out_of_order("coverage.subscriber.birth_date", "must not be after service_date")
        if self.discharge_date is not None and self.discharge_date < self.service_date:
            raise out_of_order("discharge_date", "must not be before service_date (admission)")
        if sum(c.charge for c in self.charges) > MAX_CLAIM_TOTAL:
            raise out_of_order("charges", f"must not add up to more than {MAX_CLAIM_TOTAL:,}")
        return self


class EncounterReceived(EventData):
    event_type = "chartflow.intake.encounter.received"
    phi_paths = under("encounter", ENCOUNTER_PHI)

    encounter_key: str
    hospital_id: str
    billing_provider: BillingProvider
    encounter: EncounterDocument


class PhysicianAnswer(BaseModel):
    """The physician's answer to a query: PHI."""

    choice: str | None = Field(default=None, max_length=300, pattern=NOTE_TEXT)
    text: str | None = Field(default=None, max_length=4_000, pattern=NOTE_TEXT)


class QueryAnswered(EventData):
    """The hospital's physician answered a query; the answer becomes an addendum on the chart.

    PHI: `answer`.
    """

    event_type = "chartflow.intake.query.answered"
    phi_paths = QUERY_ANSWER_PHI

    query_id: str
    encounter_key: str
    hospital_id: str
    answered_by_npi: str = Field(pattern=r"^\d{10}$")
    answered_at: datetime
    answer: PhysicianAnswer
