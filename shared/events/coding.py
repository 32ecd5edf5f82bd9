"""Events produced by coding."""

from __future__ import annotations

from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import EventData


class CodingSubmitted(EventData):
    event_type = "chartflow.coding.submitted"

    task_id: str
    encounter_key: str
    coder_id: str
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]
