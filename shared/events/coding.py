"""Events produced by coding."""

from __future__ import annotations

from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import EventData
from shared.events.phi import NO_PHI


class CodingSubmitted(EventData):
    event_type = "chartflow.coding.submitted"
    phi_paths = NO_PHI  # ids and codes

    task_id: str
    encounter_key: str
    coder_id: str
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]
