"""Coding's tables: coders (and their vendors' managers and auditors), their tasks (with the
chart), the physician queries coders raise, the audits of sampled tasks, and the hospital
scorecards waiting to be published."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, Session, SQLModel, col, func, select

from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


class Coder(SQLModel, table=True):
    __tablename__ = "coder"

    id: str = Field(primary_key=True, max_length=64)
    vendor_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=100)
    pools: str  # comma-separated pool ids
    credentials: str  # comma-separated, e.g. "CPC"
    role: str = Field(default="coder", max_length=20)  # coder | auditor | vendor_manager
    api_key_hash: str = Field(index=True, max_length=64)


class CodingTask(SQLModel, table=True):
    __tablename__ = "coding_task"

    id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(max_length=64)
    vendor_id: str = Field(index=True, max_length=64)
    pool_id: str = Field(index=True, max_length=64)
    coder_id: str | None = Field(default=None, index=True, max_length=64)
    # unassigned | open | awaiting_answer | on_hold | submitted | returned | withdrawn
    status: str = Field(default="open", max_length=20)
    held: bool = False  # ops put the encounter on hold
    due_at: datetime
    chart: str = Field(sa_type=EncryptedText)  # CodingChart as JSON (minimum necessary PHI)
    codes: str | None = None  # the submission as JSON
    created_at: datetime = Field(default_factory=_now)
    submitted_at: datetime | None = None
    kind: str = Field(default="coding", max_length=10)  # coding | rework (a coding denial)
    rework: str | None = None  # ReworkDetails JSON: the payer's reasons, the denied codes


class PhysicianQuery(SQLModel, table=True):
    """A query a coder raised to the hospital's physician; the answer is an addendum on the
    chart."""

    __tablename__ = "physician_query"

    id: str = Field(primary_key=True, max_length=64)
    task_id: str = Field(index=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(max_length=64)
    vendor_id: str = Field(max_length=64)
    coder_id: str = Field(index=True, max_length=64)
    format: str = Field(max_length=20)  # open_ended | multiple_choice | yes_no
    yes_no_use: str | None = Field(default=None, max_length=40)
    content: str = Field(sa_type=EncryptedText)  # QueryContent as JSON (PHI)
    status: str = Field(default="open", max_length=20)  # open | answered | withdrawn | cancelled
    raised_at: datetime = Field(default_factory=_now)
    closed_at: datetime | None = None
    answered_by_npi: str | None = Field(default=None, max_length=10)
    answer: str | None = Field(default=None, sa_type=EncryptedText)  # PhysicianAnswer (PHI)


class Audit(SQLModel, table=True):
    """One sampled encounter's audit: an auditor re-codes it blind, then reconciles."""

    __tablename__ = "audit"

    id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    task_id: str = Field(index=True, max_length=64)  # the coded task under audit
    coder_id: str = Field(index=True, max_length=64)
    vendor_id: str = Field(index=True, max_length=64)  # the coder's vendor
    pool_id: str = Field(max_length=64)
    auditor_id: str | None = Field(default=None, index=True, max_length=64)
    auditor_vendor_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="unassigned", max_length=20)  # recoding | reconciling | completed
    rule: str = Field(max_length=30)  # the sampling rule that chose the encounter
    reason: str = Field(max_length=200)
    credentials: str = Field(max_length=200)  # comma-separated: an auditor needs one of them
    prefer_other_vendor: bool = False
    due_at: datetime
    created_at: datetime = Field(default_factory=_now)
    recoded_at: datetime | None = None
    completed_at: datetime | None = None
    recode: str | None = None  # the auditor's blind codes as JSON
    final: str | None = None  # the final codes as JSON (what the claim carries)
    # Each difference with the auditor's decision and rationale (free text: may quote the chart).
    decisions: str | None = Field(default=None, sa_type=EncryptedText)
    # The coder's codes against the final ones (services.coding.domain.accuracy).
    diagnoses_matched: int | None = None
    diagnoses_errors: float | None = None
    procedures_matched: int | None = None
    procedures_errors: float | None = None
    accuracy_percent: float | None = None
    record_accurate: bool | None = None
    kinds: str | None = Field(default=None, max_length=400)  # differences by kind as JSON


class ScorecardMark(SQLModel, table=True):
    """A change to a hospital's month (a submission, an audit): its vendor figures are to be
    published to intake. One row per change, so concurrent changes never collide."""

    __tablename__ = "scorecard_mark"

    id: str = Field(primary_key=True, max_length=80)  # what changed: submitted-<task>, ...
    hospital_id: str = Field(max_length=64)
    period: str = Field(max_length=7)  # YYYY-MM
    marked_at: datetime = Field(default_factory=_now)


class CodingDenial(SQLModel, table=True):
    """The payer denied or rejected a claim for a coding cause: its rework task came."""

    __tablename__ = "coding_denial"

    rework_task_id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    vendor_id: str = Field(index=True, max_length=64)
    coder_id: str = Field(index=True, max_length=64)  # who coded the denied claim
    pool_id: str = Field(index=True, max_length=64)  # the pool of the task they coded it in
    denied_task_id: str = Field(max_length=64)
    claim_id: str = Field(max_length=64)
    claim_version: int = 1
    codes: str = Field(max_length=200)  # the payer's codes, e.g. "CO-11,CO-16 M76"
    at: datetime = Field(default_factory=_now, index=True)


TABLES = (Coder, CodingTask, PhysicianQuery, Audit, ScorecardMark, CodingDenial)


class CodingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def coder_by_key_hash(self, key_hash: str) -> Coder | None:
        return self.session.exec(select(Coder).where(Coder.api_key_hash == key_hash)).first()

    def coder(self, coder_id: str) -> Coder | None:
        return self.session.get(Coder, coder_id)

    def task(self, task_id: str) -> CodingTask | None:
        return self.session.get(CodingTask, task_id)

    def coders(self, vendor_id: str) -> list[Coder]:
        query = select(Coder).where(Coder.vendor_id == vendor_id).order_by(col(Coder.id))
        return list(self.session.exec(query))

    def vendor_tasks(
        self, vendor_id: str, status: str | None, coder_id: str | None, limit: int
    ) -> list[CodingTask]:
        query = select(CodingTask).where(CodingTask.vendor_id == vendor_id)
        if status:
            query = query.where(CodingTask.status == status)
        if coder_id:
            query = query.where(CodingTask.coder_id == coder_id)
        return list(self.session.exec(query.order_by(col(CodingTask.due_at)).limit(limit)))

    def open_counts(self, vendor_id: str) -> dict[str, int]:
        query = (
            select(CodingTask.coder_id, func.count())
            .where(CodingTask.vendor_id == vendor_id, CodingTask.status == "open")
            .group_by(col(CodingTask.coder_id))
        )
        return {coder: int(n) for coder, n in self.session.exec(query).all() if coder}

    def worklist(self, coder_id: str) -> list[CodingTask]:
        query = (
            select(CodingTask)
            .where(CodingTask.coder_id == coder_id, CodingTask.status == "open")
            .order_by(col(CodingTask.due_at))
        )
        return list(self.session.exec(query))

    def tasks_of(self, encounter_key: str) -> list[CodingTask]:
        query = select(CodingTask).where(CodingTask.encounter_key == encounter_key)
        return list(self.session.exec(query.order_by(col(CodingTask.created_at))))

    def query(self, query_id: str) -> PhysicianQuery | None:
        return self.session.get(PhysicianQuery, query_id)

    def queries_of(self, encounter_key: str) -> list[PhysicianQuery]:
        """The encounter's queries, oldest first (the order their addenda join the chart)."""
        query = select(PhysicianQuery).where(PhysicianQuery.encounter_key == encounter_key)
        return list(self.session.exec(query.order_by(col(PhysicianQuery.raised_at))))

    def queries_by(self, coder_id: str, status: str | None) -> list[PhysicianQuery]:
        query = select(PhysicianQuery).where(PhysicianQuery.coder_id == coder_id)
        if status:
            query = query.where(PhysicianQuery.status == status)
        return list(self.session.exec(query.order_by(col(PhysicianQuery.raised_at).desc())))

    def unassigned(self, vendor_id: str, pools: list[str]) -> list[CodingTask]:
        query = select(CodingTask).where(
            CodingTask.vendor_id == vendor_id,
            CodingTask.status == "unassigned",
            col(CodingTask.pool_id).in_(pools),
        )
        return list(self.session.exec(query.order_by(col(CodingTask.due_at))))

    def least_loaded_coder(self, vendor_id: str, pool_id: str) -> Coder | None:
        coders = [
            c
            for c in self.session.exec(
                select(Coder).where(Coder.vendor_id == vendor_id, Coder.role == "coder")
            )
            if pool_id in c.pools.split(",")
        ]
        if not coders:
            return None
        load = dict(
            self.session.exec(
                select(CodingTask.coder_id, func.count())
                .where(CodingTask.status == "open")
                .group_by(col(CodingTask.coder_id))
            ).all()
        )
        return min(coders, key=lambda c: (load.get(c.id, 0), c.id))
