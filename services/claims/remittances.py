"""What an 835 pays is applied to its claims; each remittance and its PLB kept once.

A reversal (CLP02 = 22) comes with negative amounts: adding it to what the claim was paid
takes the payment back. PLB adjustments are the provider's, kept per payer and remittance.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from services.claims.db import ClaimRow, PayerResponse, ProviderAdjustmentRow, RemittanceRow
from services.claims.domain import (
    ClaimLifecycle,
    ClaimOutcome,
    ClaimStatus,
    Remittance,
    UnknownClaim,
    apply_835,
    claim_from_coded_encounter,
    read_835,
)
from services.claims.domain.claim_rules import cents
from services.claims.repository import ClaimsRepository
from services.claims.status_events import ClaimState, move, verdict_of
from shared.settings import ChartflowSettings


def apply_outcome(row: ClaimRow | ClaimState, outcome: ClaimOutcome) -> None:
    row.paid = str(cents(Decimal(row.paid or 0) + outcome.paid))
    if outcome.payment.payer_claim_id:
        row.payer_claim_id = outcome.payment.payer_claim_id
    if outcome.lines and not outcome.payment.is_reversal:
        row.remittance = remittance_json(outcome)


def remittance_json(outcome: ClaimOutcome) -> str:
    """Per line item control number: paid amount, adjustments (group, CARC) and RARCs."""
    return json.dumps(
        {
            line_id: {
                "paid": str(cents(line.paid)),
                "adjustments": [
                    [a.group, a.reason, str(cents(a.amount))] for a in line.adjustments
                ],
                "remarks": line.remarks,
            }
            for line_id, line in outcome.lines.items()
        }
    )


def new_remittances(
    session: Session, payer_id: str, remits: Iterable[Remittance], batch_id: str | None = None
) -> list[Remittance]:
    """Keep the remittances not seen before, with their PLB adjustments; those are returned
    (a remittance read again, e.g. an 835 received twice, is applied once)."""
    fresh = []
    for remit in remits:
        if session.get(RemittanceRow, (payer_id, remit.trace_number)) is not None:
            continue
        plb = sum((a.amount for a in remit.provider_adjustments), Decimal(0))
        session.add(
            RemittanceRow(
                payer_id=payer_id,
                trace_number=remit.trace_number,
                total_paid=str(remit.total_paid),
                claim_payments=len(remit.claims),
                provider_adjustment_total=str(plb),
                batch_id=batch_id,
            )
        )
        session.add_all(
            ProviderAdjustmentRow(
                payer_id=payer_id,
                trace_number=remit.trace_number,
                provider_id=a.provider_id,
                fiscal_period=a.fiscal_period,
                reason=a.reason,
                reference=a.reference,
                amount=str(a.amount),
            )
            for a in remit.provider_adjustments
        )
        fresh.append(remit)
    session.flush()
    return fresh


@dataclass
class RemittanceReceipt:
    remittances: int  # new remittances applied (one read before is skipped)
    claims_moved: int
    provider_adjustments: int


def receive_remittance(
    session: Session, settings: ChartflowSettings, payer_id: str, text: str
) -> RemittanceReceipt:
    """An 835 the payer sent on its own: reversals, corrected payments, PLB adjustments.

    Raises `UnknownClaim` for a claim or line we never sent and `IllegalTransition` for a
    move the claim cannot make (e.g. reversing a claim never paid); the caller's
    transaction then changes nothing.
    """
    remits = read_835(text)
    repo = ClaimsRepository(session)
    pcns = sorted({c.patient_control_number for r in remits for c in r.claims})
    rows = {r.patient_control_number: r for r in repo.claims_by_pcn(pcns)}
    missing = [p for p in pcns if p not in rows]
    if missing:
        raise UnknownClaim(f"the 835 pays claims we never sent: {', '.join(missing)}")
    fresh = new_remittances(session, payer_id, remits)
    lives = {p: ClaimLifecycle(p, ClaimStatus(rows[p].status)) for p in pcns}
    claims = {p: claim_from_coded_encounter(json.loads(rows[p].document)) for p in pcns}
    outcomes: dict[str, list[ClaimOutcome]] = defaultdict(list)
    for outcome in apply_835(lives, fresh, claims):
        outcomes[outcome.patient_control_number].append(outcome)
    if fresh:
        session.add(PayerResponse(kind="835", x12=text))
    for pcn, life in lives.items():
        for step in life.history:
            apply_outcome(rows[pcn], outcomes[pcn].pop(0))
            move(
                session,
                settings,
                rows[pcn],
                step.target.value,
                step.reason,
                step.evidence,
                triage=verdict_of(step),
            )
    plb = sum(len(r.provider_adjustments) for r in fresh)
    return RemittanceReceipt(len(fresh), sum(len(v.history) for v in lives.values()), plb)
