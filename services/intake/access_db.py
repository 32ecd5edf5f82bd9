"""The platform's PHI access log, stored by intake from `access.log`: append-only.

The repository can add and query records, nothing else; the database refuses UPDATE, DELETE
(and, on PostgreSQL, TRUNCATE) on the table with triggers its migration creates
(`migrations/versions/0003_access_log.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Field, Session, SQLModel, col, select


class AccessRecord(SQLModel, table=True):
    """One read of PHI: who (actor, role, organisation), whose (tenant), what, when and where."""

    __tablename__ = "access_record"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=64)
    at: datetime = Field(index=True)
    actor: str = Field(index=True, max_length=100)
    role: str = Field(max_length=20)
    actor_org: str | None = Field(default=None, max_length=64)
    tenant: str | None = Field(default=None, index=True, max_length=64)
    action: str = Field(max_length=60)
    encounter_key: str | None = Field(default=None, index=True, max_length=140)
    claim_id: str | None = Field(default=None, max_length=64)
    route: str = Field(max_length=200)
    service: str = Field(max_length=30)


@dataclass(frozen=True)
class AccessQuery:
    """Filters of the access log; every one optional. Pages go forward from `after` (a seq)."""

    actor: str | None = None
    role: str | None = None
    tenant: str | None = None
    encounter_key: str | None = None
    claim_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int = 0
    limit: int = 100


class AccessLog:
    """Append and read; there is deliberately no way to change or remove a record."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, record: AccessRecord) -> None:
        self.session.add(record)

    def has(self, event_id: str) -> bool:
        query = select(AccessRecord.seq).where(AccessRecord.event_id == event_id)
        return self.session.exec(query).first() is not None

    def find(self, q: AccessQuery) -> list[AccessRecord]:
        query = select(AccessRecord).where(col(AccessRecord.seq) > q.after)
        for column, value in (
            (AccessRecord.actor, q.actor),
            (AccessRecord.role, q.role),
            (AccessRecord.tenant, q.tenant),
            (AccessRecord.encounter_key, q.encounter_key),
            (AccessRecord.claim_id, q.claim_id),
            (AccessRecord.action, q.action),
        ):
            if value is not None:
                query = query.where(column == value)
        if q.since is not None:
            query = query.where(col(AccessRecord.at) >= q.since)
        if q.until is not None:
            query = query.where(col(AccessRecord.at) < q.until)
        return list(self.session.exec(query.order_by(col(AccessRecord.seq)).limit(q.limit)))
