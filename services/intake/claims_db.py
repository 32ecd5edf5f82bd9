"""What intake keeps of each encounter's claims: every version with its own history (the
chain: original, replacement, void), and the hospital's work queue of billing-caused denials.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, Session, SQLModel, col, select


def _now() -> datetime:
    return datetime.now(UTC)


class ClaimVersion(SQLModel, table=True):
    """One claim of an encounter, as the hospital follows it (from `claims.status`)."""

    __tablename__ = "claim_version"

    claim_id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    version: int = 1
    frequency: str = Field(default="1", max_length=1)  # 1 original, 7 replacement, 8 void
    replaces_claim_id: str | None = Field(default=None, max_length=64)
    payer_claim_id: str | None = Field(default=None, max_length=50)
    status: str = Field(max_length=30)
    reason: str = ""
    total_charge: str | None = None
    paid: str | None = None
    triage: str = "[]"  # the payer's last verdict classified (TriageItem JSON list)
    history: str = "[]"  # JSON list of {status, reason, at, event}
    updated_at: datetime = Field(default_factory=_now)


class BillingWorkItem(SQLModel, table=True):
    """A denial or rejection the hospital's billing office must fix (registration,
    eligibility, provider data, submission): one per payer verdict that had one."""

    __tablename__ = "billing_work_item"

    id: str = Field(primary_key=True, max_length=120)  # the claims.status event's id
    hospital_id: str = Field(index=True, max_length=64)
    encounter_id: str = Field(max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    claim_id: str = Field(max_length=64)
    claim_version: int = 1
    claim_status: str = Field(max_length=30)  # denied, rejected, partially_paid ...
    items: str  # the billing-caused TriageItems (JSON list)
    status: str = Field(default="open", index=True, max_length=20)  # open | resolved
    created_at: datetime = Field(default_factory=_now)
    resolved_at: datetime | None = None


class ClaimChain:
    """Claim versions and the billing work queue, as one hospital's staff may read them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def version(self, claim_id: str) -> ClaimVersion | None:
        return self.session.get(ClaimVersion, claim_id)

    def versions(self, encounter_keys: list[str]) -> dict[str, list[ClaimVersion]]:
        """Each encounter's claims, oldest version first."""
        if not encounter_keys:
            return {}
        query = select(ClaimVersion).where(col(ClaimVersion.encounter_key).in_(encounter_keys))
        out: dict[str, list[ClaimVersion]] = {key: [] for key in encounter_keys}
        for row in self.session.exec(query.order_by(col(ClaimVersion.version))):
            out[row.encounter_key].append(row)
        return out

    def work_item(self, item_id: str) -> BillingWorkItem | None:
        return self.session.get(BillingWorkItem, item_id)

    def work_items(self, hospital_id: str, status: str | None, limit: int) -> list[BillingWorkItem]:
        query = select(BillingWorkItem).where(BillingWorkItem.hospital_id == hospital_id)
        if status:
            query = query.where(BillingWorkItem.status == status)
        query = query.order_by(col(BillingWorkItem.created_at).desc()).limit(limit)
        return list(self.session.exec(query))
