"""Events produced by coding."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import EventData


class CodingSubmitted(EventData):
    event_type = "chartflow.coding.submitted"

    task_id: str
    encounter_key: str
    coder_id: str
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]


class QueryIndicator(BaseModel):
    """A clinical indicator: a quote from chart document `document` at character `start`."""

    document: int = Field(ge=0, le=200)
    start: int = Field(ge=0, le=200_000)
    quote: str = Field(min_length=3, max_length=2_000)


class QueryOption(BaseModel):
    text: str = Field(min_length=1, max_length=300)
    # "other" options need the physician's own words; "undetermined" is "clinically undetermined".
    kind: Literal["clinical", "other", "undetermined"]


class QueryContent(BaseModel):
    """What a physician query says: PHI (it quotes the chart), never in plaintext outside."""

    question: str = Field(min_length=10, max_length=4_000)
    indicators: list[QueryIndicator] = Field(max_length=20)
    options: list[QueryOption] = Field(default_factory=list, max_length=12)


QueryFormat = Literal["open_ended", "multiple_choice", "yes_no"]


class QueryRaised(EventData):
    """A coder asked the physician (compliance checked); the hospital answers it.

    PHI: `content` (the question, the options and the chart quotes).
    """

    event_type = "chartflow.coding.query.raised"

    query_id: str
    task_id: str
    encounter_key: str
    hospital_id: str
    coder_id: str
    format: QueryFormat
    yes_no_use: str | None = None
    raised_at: datetime
    content: QueryContent


class QueryWithdrawn(EventData):
    """The coder withdrew an unanswered query (no PHI)."""

    event_type = "chartflow.coding.query.withdrawn"

    query_id: str
    task_id: str
    encounter_key: str
    hospital_id: str
    coder_id: str
    withdrawn_at: datetime
