"""Events produced by assignment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.events.bounds import age_on
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import ReturnReason
from shared.events.envelope import EventData
from shared.events.intake import (
    Admission,
    BillingProvider,
    ChargeLine,
    ClinicalDocument,
    EncounterClass,
    EncounterDocument,
    Provider,
)
from shared.events.phi import CHART_PHI, ENCOUNTER_PHI, RETURN_NOTE_PHI, under


class ChartPatient(BaseModel):
    sex: Literal["F", "M", "U"]
    age: int


class CodingChart(BaseModel):
    """HIPAA minimum necessary for coding: age and sex, never names, addresses or member ids."""

    encounter_class: EncounterClass
    specialty: str | None
    service_date: date
    discharge_date: date | None
    place_of_service: str
    admission: Admission | None
    patient: ChartPatient
    providers: list[Provider]
    documents: list[ClinicalDocument]
    charges: list[ChargeLine]

    @classmethod
    def of(cls, document: EncounterDocument) -> CodingChart:
        age = age_on(document.patient.birth_date, document.service_date)
        return cls(
            **document.model_dump(exclude={"patient", "coverage", "external_id"}),
            patient=ChartPatient(sex=document.patient.sex, age=age),
        )


class CodingTaskCreated(EventData):
    """A coding task for a vendor pool; carries the chart the coder needs, nothing more."""

    event_type = "chartflow.assignment.coding_task.created"
    phi_paths = under("chart", CHART_PHI)

    task_id: str
    encounter_key: str
    hospital_id: str
    vendor_id: str
    pool_id: str
    due_at: datetime
    chart: CodingChart


class EncounterCoded(EventData):
    event_type = "chartflow.assignment.encounter.coded"
    phi_paths = under("encounter", ENCOUNTER_PHI)

    encounter_key: str
    hospital_id: str
    billing_provider: BillingProvider
    encounter: EncounterDocument
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]
    coder_id: str
    # 1 for the first claim; a rework of a denied or rejected claim is billed as the next
    # version (claims makes it a replacement of the one before).
    claim_version: int = Field(default=1, ge=1, le=99)


class EncounterReturned(EventData):
    """The encounter goes back to the hospital uncoded, with the coder's reason."""

    event_type = "chartflow.assignment.encounter.returned"
    phi_paths = RETURN_NOTE_PHI

    encounter_key: str
    hospital_id: str
    task_id: str
    reason: ReturnReason
    note: str | None = None
