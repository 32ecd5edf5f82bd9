"""A claim moves: its transition is recorded and the hospital is told (through intake)."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from services.claims import SERVICE
from services.claims.db import ClaimRow, ClaimTransition
from shared.events import topics
from shared.events.claims import ClaimFinding, ClaimStatusChanged
from shared.events.envelope import Envelope
from shared.outbox import add_to_outbox
from shared.settings import ChartflowSettings


def move(
    session: Session,
    settings: ChartflowSettings,
    row: ClaimRow,
    target: str,
    reason: str,
    evidence: str = "",
    findings: list[ClaimFinding] | None = None,
) -> None:
    """Record `row` going to `target` with its reason, and announce it, in this transaction."""
    session.add(
        ClaimTransition(
            claim_id=row.id, source=row.status, target=target, reason=reason, evidence=evidence
        )
    )
    row.status, row.reason = target, reason
    announce(session, settings, row, step=row.steps, findings=findings)
    row.steps += 1
    session.add(row)


def announce(
    session: Session,
    settings: ChartflowSettings,
    row: ClaimRow,
    step: int,
    findings: list[ClaimFinding] | None = None,
) -> None:
    """Tell the hospital (through intake) where the claim stands now."""
    change = ClaimStatusChanged(
        encounter_key=row.encounter_key,
        claim_id=row.id,
        patient_control_number=row.patient_control_number,
        claim_type=row.claim_type,
        status=row.status,
        total_charge=Decimal(row.total_charge),
        reason=row.reason,
        findings=findings or [],
        paid=Decimal(row.paid) if row.paid is not None else None,
    )
    add_to_outbox(
        session,
        settings.topic(topics.CLAIMS_STATUS),
        Envelope.wrap(
            change,
            source=SERVICE,
            subject=row.encounter_key,
            tenant=row.hospital_id,
            id=f"claim-{row.patient_control_number}-{step}-{row.status}",
        ),
    )
