"""The claim as the payer sees it: who bills, who is covered, what was done and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

MAX_PROFESSIONAL_DIAGNOSES = 12
MAX_INSTITUTIONAL_DIAGNOSES = 25
MAX_MODIFIERS = 4
MAX_POINTERS = 4


class ClaimType(StrEnum):
    PROFESSIONAL = "professional"  # 837P, 005010X222A1
    INSTITUTIONAL = "institutional"  # 837I, 005010X223A2


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str
    line2: str = ""


@dataclass(frozen=True)
class BillingProvider:
    name: str
    npi: str
    tax_id: str
    address: Address


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    birth_date: date
    sex: str  # F, M or U
    address: Address


@dataclass(frozen=True)
class Subscriber(Person):
    member_id: str = ""


@dataclass(frozen=True)
class Patient(Person):
    # X12 individual relationship code: 01 spouse, 19 child, 20 employee, 21 unknown, G8 other
    relationship: str = "19"


@dataclass(frozen=True)
class Payer:
    name: str
    payer_id: str
    # SBR09 claim filing indicator: CI commercial, MB Medicare Part B, MA Part A, MC Medicaid
    filing_indicator: str = "CI"


@dataclass(frozen=True)
class Clinician:
    npi: str
    last_name: str
    first_name: str = ""


@dataclass(frozen=True)
class Diagnosis:
    code: str  # ICD-10-CM, with or without the dot
    poa: str = ""  # Y, N, U, W or 1 (exempt); institutional only


@dataclass(frozen=True)
class ProcedureCode:
    """An ICD-10-PCS procedure on an inpatient claim (HI BBR principal / BBQ others)."""

    code: str
    performed_on: date


@dataclass(frozen=True)
class ServiceLine:
    line_id: str  # REF*6R line item control number, unique within the claim
    charge: Decimal
    units: Decimal
    service_date: date
    procedure_code: str = ""  # CPT/HCPCS; required on 837P, optional on 837I
    modifiers: tuple[str, ...] = ()
    dx_pointers: tuple[int, ...] = ()  # 1-based into Claim.diagnoses; 837P only
    revenue_code: str = ""  # 837I only


@dataclass(frozen=True)
class InpatientStay:
    admission_date: date
    admission_hour: str  # HHMM
    admission_type: str  # UB-04 priority: 1 emergency, 2 urgent, 3 elective ...
    admission_source: str  # UB-04 point of origin
    discharge_status: str  # UB-04 patient discharge status, e.g. 01 home
    discharge_hour: str = ""  # HHMM, when the patient has been discharged


@dataclass(frozen=True)
class Claim:
    patient_control_number: str
    claim_type: ClaimType
    billing_provider: BillingProvider
    payer: Payer
    subscriber: Subscriber
    statement_from: date
    statement_to: date
    diagnoses: tuple[Diagnosis, ...]
    lines: tuple[ServiceLine, ...]
    total_charge: Decimal
    patient: Patient | None = None  # None when the patient is the subscriber
    place_of_service: str = ""  # 837P: CMS place of service code
    facility_type: str = ""  # 837I: first two digits of the type of bill, e.g. 11, 13
    frequency: str = "1"  # claim frequency code: 1 original, 7 replacement, 8 void
    # REF*F8: the payer's claim control number of the claim a replacement or void corrects
    original_reference: str = ""
    admitting_diagnosis: str = ""  # 837I inpatient (ABJ)
    procedures: tuple[ProcedureCode, ...] = ()  # 837I inpatient ICD-10-PCS
    inpatient: InpatientStay | None = None
    visit_type: str = "1"  # 837I outpatient / ED CL101: priority of the visit (1 emergency)
    visit_source: str = "1"  # CL102: point of origin (1 non-health care facility)
    rendering: Clinician | None = None  # 837P rendering / 837I attending
    encounter_key: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_inpatient(self) -> bool:
        return self.inpatient is not None

    @property
    def patient_person(self) -> Person:
        return self.patient if self.patient is not None else self.subscriber

    def line(self, line_id: str) -> ServiceLine | None:
        return next((ln for ln in self.lines if ln.line_id == line_id), None)
