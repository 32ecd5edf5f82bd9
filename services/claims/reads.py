"""Reads of claims (their 837, documents and remittance are PHI), each one in the access log."""

from __future__ import annotations

from sqlmodel import Session

from services.claims.db import ClaimRow, ClaimTransition
from services.claims.repository import ClaimsRepository
from shared.access import ADMIN, record_access
from shared.settings import ChartflowSettings


def _recorded(
    session: Session, settings: ChartflowSettings, row: ClaimRow, action: str, route: str
) -> ClaimRow:
    record_access(
        session,
        settings,
        ADMIN,
        action,
        route,
        tenant=row.hospital_id,
        encounter_key=row.encounter_key,
        claim_id=row.id,
    )
    return row


def read_claim(
    session: Session, settings: ChartflowSettings, claim_id: str, action: str, route: str
) -> tuple[ClaimRow, list[ClaimTransition]] | None:
    """The claim and its history; None when there is no such claim (nothing read)."""
    repo = ClaimsRepository(session)
    row = repo.claim(claim_id)
    if row is None:
        return None
    return _recorded(session, settings, row, action, route), repo.transitions(claim_id)


def read_claims_for(
    session: Session, settings: ChartflowSettings, encounter_key: str, route: str
) -> list[ClaimRow]:
    rows = ClaimsRepository(session).claims_for(encounter_key)
    return [_recorded(session, settings, row, "claim.read", route) for row in rows]
