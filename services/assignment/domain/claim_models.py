"""The claim as the EncounterCoding workflow follows it, and the rework of a coding-caused
denial (codes, ids, statuses and amounts; no PHI: no names, dates or payer free text)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.events.claims import ClaimStatusChanged, TriageCause, TriagedLine


class ClaimIssue(BaseModel):
    """A classified adjustment or rejection (the claims triage item, without its amount)."""

    source: str  # 835 | 277CA | 999
    cause: TriageCause
    code: str  # CO-11, CO-16 M76, A7:255, 999 R
    meaning: str
    lines: list[TriagedLine] = []

    def describe(self) -> str:
        lines = ", ".join(
            f"line {ln.number}" + (f" {ln.procedure_code}" if ln.procedure_code else "")
            for ln in self.lines
        )
        return f"{self.code}: {self.meaning}" + (f" ({lines})" if lines else "")


class ClaimStatusSignal(BaseModel):
    """One step of one claim version (from `claims.status`)."""

    claim_id: str
    version: int
    step: int  # orders one claim's steps: an older or repeated one changes nothing
    status: str
    frequency: str = "1"
    payer_id: str = ""
    payer_claim_id: str | None = None
    total_charge: str = "0"
    paid: str | None = None
    issues: list[ClaimIssue] = []

    @classmethod
    def of(cls, change: ClaimStatusChanged) -> ClaimStatusSignal:
        """The step as the workflow keeps it: no reason text, no adjustment amounts."""
        return cls(
            claim_id=change.claim_id,
            version=change.version,
            step=change.step,
            status=change.status,
            frequency=change.frequency,
            payer_id=change.payer_id,
            payer_claim_id=change.payer_claim_id,
            total_charge=str(change.total_charge),
            paid=str(change.paid) if change.paid is not None else None,
            issues=[
                ClaimIssue(
                    source=t.source, cause=t.cause, code=t.code, meaning=t.meaning, lines=t.lines
                )
                for t in change.triage
            ],
        )


class ReworkOrder(BaseModel):
    """Why a coding task is a rework: the claim the payer denied or rejected for a coding
    cause, what it said, and whose codes it was."""

    claim_id: str
    claim_version: int
    denied_task_id: str
    denied_coder_id: str
    reasons: list[ClaimIssue]


class Rework(BaseModel):
    """A rework in the workflow's status, for ops."""

    claim_id: str
    claim_version: int  # the version denied; its rework is billed as the next one
    coder_id: str | None  # the coder asked first (who coded it)
    reasons: list[str]
    at: datetime
