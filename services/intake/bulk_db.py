"""Tables of bulk NDJSON jobs: the job, its uploaded lines in encrypted chunks (each chunk is
worked through in one transaction and keeps its own counts, so several workers can take one
job's chunks at once), and the error report by line number."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col, func, or_, select

from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


class BulkJob(SQLModel, table=True):
    __tablename__ = "bulk_job"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    hospital_id: str = Field(index=True, max_length=64)
    format: str = Field(max_length=10)  # native | fhir
    lines_total: int = 0
    created_at: datetime = Field(default_factory=_now)


class BulkChunk(SQLModel, table=True):
    """Consecutive lines of the upload (PHI: stored encrypted) and what became of them."""

    __tablename__ = "bulk_chunk"

    job_id: str = Field(primary_key=True, max_length=64)
    seq: int = Field(primary_key=True)
    first_line: int
    line_count: int
    body: str = Field(sa_type=EncryptedText)
    done: bool = Field(default=False, index=True)
    queued_at: datetime = Field(default_factory=_now)
    accepted: int = 0
    duplicate: int = 0
    refused: int = 0
    skipped: int = 0  # FHIR encounters the hospital's intake rule does not take
    # A FHIR job is read outside the transaction that took it: others leave it alone until.
    lease_until: datetime | None = None
    finished_at: datetime | None = None


class BulkError(SQLModel, table=True):
    """One line the job refused: where and why (field names, never values)."""

    __tablename__ = "bulk_error"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(index=True, max_length=64)
    line: int
    field: str = Field(max_length=300)
    message: str = Field(max_length=500)


BULK_TABLES = (BulkJob, BulkChunk, BulkError)


class BulkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def job(self, hospital_id: str, job_id: str) -> BulkJob | None:
        row = self.session.get(BulkJob, job_id)
        return row if row is not None and row.hospital_id == hospital_id else None

    def next_chunk(self, now: datetime) -> BulkChunk | None:
        """The oldest chunk left to do that no other worker holds (locked until commit)."""
        query = (
            select(BulkChunk)
            .where(
                col(BulkChunk.done).is_(False),
                or_(col(BulkChunk.lease_until).is_(None), col(BulkChunk.lease_until) < now),
            )
            .order_by(col(BulkChunk.queued_at), col(BulkChunk.seq))
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return self.session.exec(query).first()

    def chunk_states(self, job_id: str) -> list[BulkChunk]:
        """The job's chunks without their lines (decrypting them is not needed for progress)."""
        query = (
            select(BulkChunk)
            .options(defer(BulkChunk.body))  # type: ignore[arg-type]
            .where(BulkChunk.job_id == job_id)
            .order_by(col(BulkChunk.seq))
        )
        return list(self.session.exec(query))

    def error_count(self, job_id: str) -> int:
        query = select(func.count()).select_from(BulkError).where(BulkError.job_id == job_id)
        return int(self.session.exec(query).one())

    def errors(self, job_id: str) -> list[BulkError]:
        query = (
            select(BulkError)
            .where(BulkError.job_id == job_id)
            .order_by(col(BulkError.line), col(BulkError.id))
        )
        return list(self.session.exec(query))
