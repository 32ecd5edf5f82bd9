"""Events produced by assignment."""

from __future__ import annotations

from datetime import datetime

from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import EventData
from shared.events.intake import BillingProvider, EncounterDocument


class CodingTaskCreated(EventData):
    """A coding task for a vendor pool; carries the chart the coder needs, nothing more."""

    event_type = "chartflow.assignment.coding_task.created"

    task_id: str
    encounter_key: str
    hospital_id: str
    vendor_id: str
    pool_id: str
    due_at: datetime
    encounter: EncounterDocument


class EncounterCoded(EventData):
    event_type = "chartflow.assignment.encounter.coded"

    encounter_key: str
    hospital_id: str
    billing_provider: BillingProvider
    encounter: EncounterDocument
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]
    coder_id: str
