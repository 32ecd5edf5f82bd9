"""Assignment's audit tables: the sampling policies of pools and hospital contracts, and the
audits coding completed (the final codes the claim carries, the coder's record)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, Session, SQLModel, col, func, select

from services.assignment.domain.sampling import CoderRecord, SamplingPolicy


def _now() -> datetime:
    return datetime.now(UTC)


class AuditPolicy(SQLModel, table=True):
    """A pool's sampling policy (`hospital_id` empty), or a hospital contract's replacement."""

    __tablename__ = "audit_policy"

    pool_id: str = Field(primary_key=True, max_length=64)
    hospital_id: str = Field(primary_key=True, default="", max_length=64)
    policy: str  # SamplingPolicy as JSON
    updated_at: datetime = Field(default_factory=_now)


class AuditResult(SQLModel, table=True):
    """A completed audit as coding announced it (`AuditCompleted`): codes and figures only."""

    __tablename__ = "audit_result"

    audit_id: str = Field(primary_key=True, max_length=64)
    task_id: str = Field(index=True, max_length=64)  # the coded task audited
    encounter_key: str = Field(index=True, max_length=140)
    coder_id: str = Field(index=True, max_length=64)
    matched: int
    errors: float
    completed: str  # AuditCompleted as JSON
    received_at: datetime = Field(default_factory=_now)


AUDIT_TABLES = (AuditPolicy, AuditResult)


class AuditRecords:
    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, pool_id: str, hospital_id: str, policy: SamplingPolicy) -> None:
        row = self.session.get(AuditPolicy, (pool_id, hospital_id))
        if row is None:
            row = AuditPolicy(pool_id=pool_id, hospital_id=hospital_id, policy="")
        row.policy, row.updated_at = policy.model_dump_json(), _now()
        self.session.add(row)

    def effective(self, pool_id: str, hospital_id: str) -> tuple[SamplingPolicy | None, str]:
        """The contract's policy, else the pool's, else none; and which it is."""
        contract = [(hospital_id, "contract")] if hospital_id else []
        for hospital, source in [*contract, ("", "pool")]:
            row = self.session.get(AuditPolicy, (pool_id, hospital))
            if row is not None:
                return SamplingPolicy.model_validate_json(row.policy), source
        return None, "none"

    def result(self, audit_id: str) -> AuditResult | None:
        return self.session.get(AuditResult, audit_id)

    def coder_record(self, coder_id: str, window: int) -> CoderRecord:
        """How many audits the coder has, and their pooled accuracy over the last `window`."""
        audited = self.session.exec(
            select(func.count()).select_from(AuditResult).where(AuditResult.coder_id == coder_id)
        ).one()
        recent = self.session.exec(
            select(AuditResult)
            .where(AuditResult.coder_id == coder_id)
            .order_by(col(AuditResult.received_at).desc())
            .limit(max(window, 1))
        ).all()
        matched = sum(r.matched for r in recent)
        total = matched + sum(r.errors for r in recent)
        accuracy = round(100.0 * matched / total, 2) if total else (100.0 if recent else None)
        return CoderRecord(audited=int(audited), accuracy_percent=accuracy)
