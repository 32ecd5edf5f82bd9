"""Assignment's tables: vendor pools, the encounters it routes, and coders' submissions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Field, Session, SQLModel, col, func, select

from services.assignment.audit_db import AuditPolicy, AuditResult
from services.assignment.domain.backlog import DEFAULT_PRIORITY, Waiting
from services.assignment.domain.routing import PoolProfile
from services.assignment.milestones_db import EncounterMilestone
from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


class VendorPool(SQLModel, table=True):
    __tablename__ = "vendor_pool"

    id: str = Field(primary_key=True, max_length=64)
    vendor_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=100)
    credentials: str  # comma-separated, e.g. "CPC,CCS-P"
    encounter_classes: str  # comma-separated
    hospitals: str = ""  # comma-separated; empty means every hospital
    capacity: int = 100
    sla_seconds: int = 86_400
    # How long the pool's coder has to rework a coding-caused denial (none: sla_seconds).
    rework_sla_seconds: int | None = None


class RoutedEncounter(SQLModel, table=True):
    """The encounter as received (the chart stays here, not in workflow history)."""

    __tablename__ = "routed_encounter"

    encounter_key: str = Field(primary_key=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    received: str = Field(sa_type=EncryptedText)  # EncounterReceived as JSON (PHI)
    pool_id: str | None = Field(default=None, index=True, max_length=64)
    status: str = Field(default="received", max_length=30)
    updated_at: datetime = Field(default_factory=_now)


class PoolTask(SQLModel, table=True):
    """A coding task handed to a pool: open until the encounter is coded (counts on capacity)."""

    __tablename__ = "pool_task"

    task_id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    pool_id: str = Field(index=True, max_length=64)
    open: bool = True


class CodingSubmission(SQLModel, table=True):
    __tablename__ = "coding_submission"

    task_id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    coder_id: str = Field(max_length=64)
    submitted: str  # CodingSubmitted as JSON
    received_at: datetime = Field(default_factory=_now)


class QueryRecord(SQLModel, table=True):
    """A physician query's life, for ops figures: ids and times only (the content is PHI and
    stays with coding and intake)."""

    __tablename__ = "query_record"

    query_id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    coder_id: str = Field(index=True, max_length=64)
    status: str = Field(default="open", max_length=20)  # open | answered | withdrawn
    raised_at: datetime | None = None
    answered_at: datetime | None = None
    withdrawn_at: datetime | None = None
    escalated_at: datetime | None = None


class EscalationEntry(SQLModel, table=True):
    """An escalation ops read and acknowledge: an SLA breach nobody else can take, or a query
    unanswered after its last reminder."""

    __tablename__ = "escalation"

    id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=30)  # no_other_pool | ... | query_unanswered | audit_overdue
    pool_id: str | None = Field(default=None, max_length=64)
    task_id: str | None = Field(default=None, max_length=64)
    query_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_now, index=True)
    acknowledged_by: str | None = Field(default=None, max_length=64)
    acknowledged_at: datetime | None = None
    note: str | None = Field(default=None, sa_type=EncryptedText)  # free text: may be PHI


class OpsActionEntry(SQLModel, table=True):
    """Every ops control asked for: what, on which encounter, who and why."""

    __tablename__ = "ops_action"

    id: int | None = Field(default=None, primary_key=True)
    encounter_key: str = Field(index=True, max_length=140)
    action: str = Field(max_length=30)  # reassign | hold | release | cancel | extend_sla
    detail: str = Field(default="", max_length=200)  # the pool, coder or seconds
    by: str = Field(max_length=64)
    reason: str = Field(sa_type=EncryptedText)  # free text: may be PHI
    at: datetime = Field(default_factory=_now)


class CodingReturn(SQLModel, table=True):
    """A coder handed the encounter back to the hospital (the note stays out of history)."""

    __tablename__ = "coding_return"

    task_id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    coder_id: str = Field(max_length=64)
    returned: str = Field(sa_type=EncryptedText)  # CodingReturned as JSON (a note may be PHI)
    received_at: datetime = Field(default_factory=_now)


class BacklogEntry(SQLModel, table=True):
    """An encounter waiting in a pool's backlog; once offered it holds one slot of the pool's
    capacity until its coding task is published (or the offer is taken back)."""

    __tablename__ = "pool_backlog"

    encounter_key: str = Field(primary_key=True, max_length=140)
    pool_id: str = Field(primary_key=True, max_length=64, index=True)
    hospital_id: str = Field(index=True, max_length=64)
    dnfb_on: date  # discharged on (served on when not discharged): the DNFB age's start
    sla_due_at: datetime
    enqueued_at: datetime = Field(default_factory=_now)
    offered_at: datetime | None = Field(default=None, index=True)  # last signalled

    def waiting(self, priority: int) -> Waiting:
        return Waiting(
            encounter_key=self.encounter_key,
            hospital_id=self.hospital_id,
            dnfb_on=self.dnfb_on,
            sla_due_at=utc(self.sla_due_at),
            enqueued_at=utc(self.enqueued_at),
            priority=priority,
        )


class BacklogTurn(SQLModel, table=True):
    """A pool's fair clock: each hospital's finish tag (hospital "" is the current turn)."""

    __tablename__ = "pool_backlog_turn"

    pool_id: str = Field(primary_key=True, max_length=64)
    hospital_id: str = Field(primary_key=True, max_length=64)
    finish: float = 0.0


class HospitalPriority(SQLModel, table=True):
    """A hospital's weight in every pool's turns (1 unless an admin sets it)."""

    __tablename__ = "hospital_priority"

    hospital_id: str = Field(primary_key=True, max_length=64)
    priority: int = DEFAULT_PRIORITY


def utc(value: datetime) -> datetime:
    """SQLite gives datetimes back without their zone: they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


TABLES = (
    VendorPool,
    RoutedEncounter,
    PoolTask,
    CodingSubmission,
    CodingReturn,
    QueryRecord,
    EscalationEntry,
    OpsActionEntry,
    AuditPolicy,
    AuditResult,
    BacklogEntry,
    BacklogTurn,
    HospitalPriority,
    EncounterMilestone,
)


def _csv(value: str) -> frozenset[str]:
    return frozenset(v.strip() for v in value.split(",") if v.strip())


def _counts(session: Session, query: object) -> dict[str, int]:
    return {pool_id: int(n) for pool_id, n in session.exec(query).all()}  # type: ignore[call-overload]


def open_task_counts(session: Session) -> dict[str, int]:
    return _counts(
        session,
        select(PoolTask.pool_id, func.count()).where(PoolTask.open).group_by(col(PoolTask.pool_id)),
    )


def backlog_counts(session: Session, offered: bool) -> dict[str, int]:
    """Per pool: entries offered a slot (True) or still waiting (False)."""
    column = col(BacklogEntry.offered_at)
    return _counts(
        session,
        select(BacklogEntry.pool_id, func.count())
        .where(column.is_not(None) if offered else column.is_(None))
        .group_by(col(BacklogEntry.pool_id)),
    )


class AssignmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def routed(self, encounter_key: str) -> RoutedEncounter | None:
        return self.session.get(RoutedEncounter, encounter_key)

    def submission(self, task_id: str) -> CodingSubmission | None:
        return self.session.get(CodingSubmission, task_id)

    def coding_return(self, task_id: str) -> CodingReturn | None:
        return self.session.get(CodingReturn, task_id)

    def open_tasks(self, encounter_key: str) -> list[PoolTask]:
        query = select(PoolTask).where(PoolTask.encounter_key == encounter_key, PoolTask.open)
        return list(self.session.exec(query))

    def pool(self, pool_id: str) -> VendorPool | None:
        return self.session.get(VendorPool, pool_id)

    def query_record(self, query_id: str) -> QueryRecord | None:
        return self.session.get(QueryRecord, query_id)

    def query_records(self, since: datetime | None = None) -> list[QueryRecord]:
        query = select(QueryRecord)
        if since is not None:
            query = query.where(col(QueryRecord.raised_at) >= since)
        return list(self.session.exec(query.order_by(col(QueryRecord.raised_at))))

    def escalation(self, escalation_id: str) -> EscalationEntry | None:
        return self.session.get(EscalationEntry, escalation_id)

    def escalations(self, acknowledged: bool | None, limit: int) -> list[EscalationEntry]:
        query = select(EscalationEntry)
        if acknowledged is not None:
            column = col(EscalationEntry.acknowledged_at)
            query = query.where(column.is_not(None) if acknowledged else column.is_(None))
        query = query.order_by(col(EscalationEntry.created_at).desc()).limit(limit)
        return list(self.session.exec(query))

    def ops_action(self, action_id: int) -> OpsActionEntry | None:
        return self.session.get(OpsActionEntry, action_id)

    def ops_actions(self, encounter_key: str) -> list[OpsActionEntry]:
        query = select(OpsActionEntry).where(OpsActionEntry.encounter_key == encounter_key)
        return list(self.session.exec(query.order_by(col(OpsActionEntry.id))))

    def tasks(self, task_ids: list[str]) -> list[PoolTask]:
        return list(self.session.exec(select(PoolTask).where(col(PoolTask.task_id).in_(task_ids))))

    def pool_profiles(self) -> list[PoolProfile]:
        # An offered slot is taken; a pool with encounters waiting takes no newcomer first.
        opened, offered = open_task_counts(self.session), backlog_counts(self.session, True)
        waiting = backlog_counts(self.session, False)
        return [
            PoolProfile(
                pool_id=p.id,
                vendor_id=p.vendor_id,
                credentials=_csv(p.credentials),
                encounter_classes=_csv(p.encounter_classes),
                hospitals=_csv(p.hospitals),
                capacity=p.capacity,
                open_tasks=opened.get(p.id, 0) + offered.get(p.id, 0),
                waiting=waiting.get(p.id, 0),
                sla_seconds=p.sla_seconds,
                rework_sla_seconds=p.rework_sla_seconds,
            )
            for p in self.session.exec(select(VendorPool))
        ]
