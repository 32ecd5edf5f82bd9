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


class AuditCompleted(EventData):
    """An audit was reconciled: the claim goes out with these final codes, and the coder's
    record counts its score (rationales stay in coding: they may quote the chart)."""

    event_type = "chartflow.coding.audit_completed"
    phi_paths = NO_PHI  # ids, codes and figures

    audit_id: str
    encounter_key: str
    task_id: str  # the coded task audited
    coder_id: str
    auditor_id: str
    diagnoses: list[DiagnosisCode]
    procedures: list[ProcedureCode]
    matched: int  # the coder's codes the final coding kept
    errors: float  # weighted differences (docs/audits.md)
    accuracy_percent: float
    record_accurate: bool


class ScorecardFigures(BaseModel):
    """One group's figures for a period (docs/audits.md says how each is computed)."""

    group: str = Field(description="The coder, pool, vendor or hospital id")
    volume: int = Field(description="Coded encounters")
    audited: int
    accuracy_percent: float | None = Field(description="Code level, pooled; none unaudited")
    diagnoses_accuracy_percent: float | None
    procedures_accuracy_percent: float | None
    record_accuracy_percent: float | None = Field(description="Audited records with no difference")
    differences: dict[str, int] = Field(description="The coders' differences, by kind")
    turnaround_p50_seconds: float | None
    turnaround_p90_seconds: float | None
    query_rate: float | None = Field(description="Physician queries per coded encounter")
    coding_denials: int = Field(
        default=0, description="Claims billed from these codes denied for a coding cause"
    )
    denial_rate: float | None = Field(default=None, description="coding_denials / volume, 0..1")


class HospitalScorecardPublished(EventData):
    """A hospital's vendor-level figures for a month, as they stand (keyed by the hospital;
    intake keeps the newest)."""

    event_type = "chartflow.coding.hospital_scorecard"
    phi_paths = NO_PHI  # figures summed over encounters

    hospital_id: str
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    as_of: datetime
    vendors: list[ScorecardFigures]
