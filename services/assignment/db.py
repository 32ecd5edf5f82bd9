"""Assignment's tables: vendor pools, the encounters it routes, and coders' submissions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, Session, SQLModel, col, func, select

from services.assignment.domain.routing import PoolProfile
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


class CodingReturn(SQLModel, table=True):
    """A coder handed the encounter back to the hospital (the note stays out of history)."""

    __tablename__ = "coding_return"

    task_id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    coder_id: str = Field(max_length=64)
    returned: str = Field(sa_type=EncryptedText)  # CodingReturned as JSON (a note may be PHI)
    received_at: datetime = Field(default_factory=_now)


TABLES = (VendorPool, RoutedEncounter, PoolTask, CodingSubmission, CodingReturn)


def _csv(value: str) -> frozenset[str]:
    return frozenset(v.strip() for v in value.split(",") if v.strip())


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

    def pool_profiles(self) -> list[PoolProfile]:
        open_counts = dict(
            self.session.exec(
                select(PoolTask.pool_id, func.count())
                .where(PoolTask.open)
                .group_by(col(PoolTask.pool_id))
            ).all()
        )
        return [
            PoolProfile(
                pool_id=p.id,
                vendor_id=p.vendor_id,
                credentials=_csv(p.credentials),
                encounter_classes=_csv(p.encounter_classes),
                hospitals=_csv(p.hospitals),
                capacity=p.capacity,
                open_tasks=int(open_counts.get(p.id, 0)),
                sla_seconds=p.sla_seconds,
            )
            for p in self.session.exec(select(VendorPool))
        ]
