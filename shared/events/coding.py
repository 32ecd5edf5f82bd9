"""Events produced by coding."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.events.bounds import NOTE_TEXT
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import EventData
from shared.events.phi import NO_PHI, QUERY_PHI, RETURN_NOTE_PHI

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


class QueryIndicator(BaseModel):
    """A clinical indicator: a quote from chart document `document` at character `start`."""

    document: int = Field(ge=0, le=200)
    start: int = Field(ge=0, le=200_000)
    quote: str = Field(min_length=3, max_length=2_000, pattern=NOTE_TEXT)


class QueryOption(BaseModel):
    text: str = Field(min_length=1, max_length=300, pattern=NOTE_TEXT)
    # "other" options need the physician's own words; "undetermined" is "clinically undetermined".
    kind: Literal["clinical", "other", "undetermined"]


class QueryContent(BaseModel):
    """What a physician query says: PHI (it quotes the chart), never in plaintext outside."""

    question: str = Field(min_length=10, max_length=4_000, pattern=NOTE_TEXT)
    indicators: list[QueryIndicator] = Field(max_length=20)
    options: list[QueryOption] = Field(default_factory=list, max_length=12)


QueryFormat = Literal["open_ended", "multiple_choice", "yes_no"]


class QueryRaised(EventData):
    """A coder asked the physician (compliance checked); the hospital answers it.

    PHI: `content` (the question, the options and the chart quotes).
    """

    event_type = "chartflow.coding.query.raised"
    phi_paths = QUERY_PHI

    query_id: str
    task_id: str
    encounter_key: str
    hospital_id: str
    coder_id: str
    format: QueryFormat
    yes_no_use: str | None = Field(default=None, max_length=40)
    raised_at: datetime
    content: QueryContent


class QueryWithdrawn(EventData):
    """The coder withdrew an unanswered query (no PHI)."""

    event_type = "chartflow.coding.query.withdrawn"
    phi_paths = NO_PHI

    query_id: str
    task_id: str
    encounter_key: str
    hospital_id: str
    coder_id: str
    withdrawn_at: datetime
