"""Events produced by claims."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from shared.events.envelope import EventData
from shared.events.phi import CLAIM_STATUS_PHI

#: Who can fix what the payer said (`services/claims/data/denial_triage.csv`): the coder
#: (coding), the hospital's billing office (billing), nobody: contract, plan or the
#: patient's share (payer).
TriageCause = Literal["coding", "billing", "payer"]


class ClaimFinding(BaseModel):
    rule: str
    message: str


class TriagedLine(BaseModel):
    """A service line an adjustment or rejection names, with the codes billed on it."""

    line_id: str
    number: int  # 1-based position on the claim
    procedure_code: str = ""
    modifiers: list[str] = []
    revenue_code: str = ""


class TriageItem(BaseModel):
    """One kind of adjustment (835) or rejection (277CA, 999) on the claim, classified."""

    source: Literal["835", "277CA", "999"]
    cause: TriageCause
    code: str  # CO-11, CO-16 M76, A7:255, 999 R
    meaning: str  # the code list's meaning in our words (no value from the claim)
    group: str = ""  # CAS01
    carc: str = ""
    rarcs: list[str] = []
    category: str = ""  # 277CA STC01-1
    status_code: str = ""  # 277CA STC01-2
    lines: list[TriagedLine] = []
    amount: Decimal | None = None  # the sum adjusted (PHI: sealed)


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
    # The claim's place in the encounter's chain: version 1 is the original; a corrected
    # claim is a new version, a replacement (frequency 7) or, after a rejection, a new
    # original (1); a void is frequency 8.
    version: int = 1
    frequency: str = "1"
    replaces_claim_id: str | None = None
    payer_id: str = ""
    payer_claim_id: str | None = None  # the payer's claim control number (277CA 1K, CLP07)
    triage: list[TriageItem] = []  # what the payer's answer at this step said, classified
    step: int = 0  # the claim's transitions before this one: orders its announcements
