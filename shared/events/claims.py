"""Events produced by claims."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from shared.events.envelope import EventData
from shared.events.phi import CLAIM_STATUS_PHI


class ClaimFinding(BaseModel):
    rule: str
    message: str


class ClaimStatusChanged(EventData):
    event_type = "chartflow.claims.status.changed"
    phi_paths = CLAIM_STATUS_PHI

    encounter_key: str
    claim_id: str
    patient_control_number: str
    claim_type: str
    status: str
    total_charge: Decimal
    reason: str
    findings: list[ClaimFinding] = []
    paid: Decimal | None = None  # once the payer's 835 arrived
