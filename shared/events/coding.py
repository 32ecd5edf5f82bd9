"""Events produced by coding."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events.bounds import NOTE_TEXT
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import EventData
from shared.events.phi import NO_PHI, RETURN_NOTE_PHI

#: Why a coder hands an encounter back to the hospital instead of coding it.
ReturnReason = Literal[
    "documentation_incomplete", "demographics_invalid", "cannot_be_billed", "other"
]


class CodingSubmitted(EventData):
    event_type = "chartflow.coding.submitted"
    phi_paths = NO_PHI  # ids and codes

    task_id: str
    encounter_key: str
    coder_id: str
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]


class CodingReturned(EventData):
    """The coder cannot code the encounter as sent: it goes back to the hospital."""

    event_type = "chartflow.coding.returned"
    phi_paths = RETURN_NOTE_PHI

    task_id: str
    encounter_key: str
    coder_id: str
    reason: ReturnReason
    note: str | None = Field(
        default=None,
        max_length=500,
        pattern=NOTE_TEXT,
        description="For the hospital; the chart's identifiers are not needed here.",
    )
