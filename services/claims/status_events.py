"""A claim moves: its transition is recorded and the hospital is told (through intake).

`Moves` collects the moves of many claims and writes them with one INSERT per table (a
batch's answers move every claim in it); `move` is the same for one claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session, col

from services.claims import SERVICE
from services.claims.db import ClaimRow, ClaimTransition, utc_now
from services.claims.domain.status import Transition
from services.claims.domain.triage import Triage
from shared.events import topics
from shared.events.claims import ClaimFinding, ClaimStatusChanged, TriagedLine, TriageItem
from shared.events.envelope import Envelope
from shared.outbox import add_many_to_outbox
from shared.settings import ChartflowSettings


@dataclass
class ClaimState:
    """A claim's columns that its moves read and write (none of them PHI)."""

    id: str
    encounter_key: str
    hospital_id: str
    patient_control_number: str
    claim_type: str
    total_charge: str
    status: str
    reason: str
    steps: int
    paid: str | None
    remittance: str | None
    payer_claim_id: str | None
    version: int = 1
    frequency: str = "1"
    replaces_claim_id: str | None = None
    payer_id: str = ""
    triage: str = "[]"


_COLUMNS = [getattr(ClaimRow, name) for name in ClaimState.__dataclass_fields__]
_WRITTEN = ("status", "reason", "steps", "paid", "remittance", "payer_claim_id", "triage")


def states_in_batch(session: Session, batch_id: str) -> list[ClaimState]:
    query = select(*_COLUMNS).where(col(ClaimRow.batch_id) == batch_id)
    return [ClaimState(*r) for r in session.execute(query)]


def write_states(session: Session, states: list[ClaimState]) -> None:
    """The moved claims' columns, in one UPDATE run for every claim."""
    if states:
        table = ClaimRow.__table__  # type: ignore[attr-defined]
        values = [{"b_id": s.id, **{k: getattr(s, k) for k in _WRITTEN}} for s in states]
        session.execute(update(table).where(table.c.id == bindparam("b_id")), values)


class Moves:
    def __init__(self, settings: ChartflowSettings) -> None:
        self.settings = settings
        self.transitions: list[dict[str, Any]] = []
        self.envelopes: list[Envelope] = []

    def add(
        self,
        claim: ClaimRow | ClaimState,
        target: str,
        reason: str,
        evidence: str = "",
        findings: list[ClaimFinding] | None = None,
        triage: Sequence[Triage] | None = None,
    ) -> None:
        """`claim` goes to `target` for `reason`; its row (or state) is updated in memory.
        `triage`, when given, is what the payer's answer said (it replaces the last)."""
        self.transitions.append(
            {
                "claim_id": claim.id,
                "source": claim.status,
                "target": target,
                "reason": reason,
                "evidence": evidence,
                "at": utc_now(),
            }
        )
        claim.status, claim.reason = target, reason
        items = triage_items(triage or ())
        if triage is not None:
            claim.triage = json.dumps([i.model_dump(mode="json") for i in items])
        self.envelopes.append(_announcement(claim, claim.steps, findings or [], items))
        claim.steps += 1

    def write(self, session: Session) -> None:
        if self.transitions:
            session.execute(insert(ClaimTransition), self.transitions)
        add_many_to_outbox(session, self.settings.topic(topics.CLAIMS_STATUS), self.envelopes)
        self.transitions, self.envelopes = [], []


def move(
    session: Session,
    settings: ChartflowSettings,
    row: ClaimRow,
    target: str,
    reason: str,
    evidence: str = "",
    findings: list[ClaimFinding] | None = None,
    triage: Sequence[Triage] | None = None,
) -> None:
    """Record `row` going to `target` with its reason, and announce it, in this transaction."""
    moves = Moves(settings)
    moves.add(row, target, reason, evidence, findings, triage)
    session.add(row)
    moves.write(session)


#: The statuses a payer's answer decides; their triage replaces the claim's last one.
VERDICTS = frozenset({"rejected", "paid", "partially_paid", "denied"})


def verdict_of(step: Transition) -> tuple[Triage, ...] | None:
    """The step's triage when it is the payer's verdict (even an empty one), else None."""
    return step.triage if step.target.value in VERDICTS else None


def triage_items(triage: Iterable[Triage]) -> list[TriageItem]:
    """The domain's triage as it travels (its amount sealed with the claim's other money)."""
    return [
        TriageItem(
            source=t.source,
            cause=t.cause.value,
            code=t.code,
            meaning=t.meaning,
            group=t.group,
            carc=t.carc,
            rarcs=list(t.rarcs),
            category=t.category,
            status_code=t.status_code,
            lines=[
                TriagedLine(
                    line_id=ln.line_id,
                    number=ln.number,
                    procedure_code=ln.procedure_code,
                    modifiers=list(ln.modifiers),
                    revenue_code=ln.revenue_code,
                )
                for ln in t.lines
            ],
            amount=t.amount,
        )
        for t in triage
    ]


def _announcement(
    claim: ClaimRow | ClaimState, step: int, findings: list[ClaimFinding], items: list[TriageItem]
) -> Envelope:
    """Where the claim stands now, for the hospital (through intake)."""
    change = ClaimStatusChanged(
        encounter_key=claim.encounter_key,
        claim_id=claim.id,
        patient_control_number=claim.patient_control_number,
        claim_type=claim.claim_type,
        status=claim.status,
        total_charge=Decimal(claim.total_charge),
        reason=claim.reason,
        findings=findings,
        paid=Decimal(claim.paid) if claim.paid is not None else None,
        version=claim.version,
        frequency=claim.frequency,
        replaces_claim_id=claim.replaces_claim_id,
        payer_id=claim.payer_id,
        payer_claim_id=claim.payer_claim_id,
        triage=items,
        step=step,
    )
    return Envelope.wrap(
        change,
        source=SERVICE,
        subject=claim.encounter_key,
        tenant=claim.hospital_id,
        id=f"claim-{claim.patient_control_number}-{step}-{claim.status}",
    )
