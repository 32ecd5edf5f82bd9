"""Each encounter's milestones for the ops page: when it was discharged, received, first coded
and first billed, or closed unbilled. Ids, classes and system times; the discharge time comes
from the chart's dates (PHI), so it is stored encrypted."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlmodel import Field, Session, SQLModel, col, or_, select

from services.assignment.domain.ops_figures import BILLED, Milestones
from shared.crypto import EncryptedText
from shared.events.intake import EncounterReceived


def _now() -> datetime:
    return datetime.now(UTC)


class EncounterMilestone(SQLModel, table=True):
    __tablename__ = "encounter_milestone"

    encounter_key: str = Field(primary_key=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    encounter_class: str = Field(max_length=20)
    discharged_at: str = Field(sa_type=EncryptedText)  # ISO time: from the chart's dates (PHI)
    received_at: datetime = Field(default_factory=_now)
    coded_at: datetime | None = Field(default=None, index=True)
    billed_at: datetime | None = Field(default=None, index=True)
    closed: str | None = Field(default=None, max_length=20)  # returned | cancelled


def discharged_at(received: EncounterReceived) -> datetime:
    """The discharge date at its hour (UTC) when given, else the service date (outpatient,
    emergency and professional encounters end the day they happen)."""
    document = received.encounter
    day = document.discharge_date or document.service_date
    hour = document.admission.discharge_hour if document.admission else None
    at = time(int(hour[:2]), int(hour[2:])) if hour else time()
    return datetime.combine(day, at, tzinfo=UTC)


def record_received(session: Session, received: EncounterReceived) -> None:
    if session.get(EncounterMilestone, received.encounter_key) is None:
        session.add(
            EncounterMilestone(
                encounter_key=received.encounter_key,
                hospital_id=received.hospital_id,
                encounter_class=received.encounter.encounter_class,
                discharged_at=discharged_at(received).isoformat(),
            )
        )


def record_coded(session: Session, encounter_key: str, at: datetime) -> None:
    """The first time codes were released for it (a rework keeps the first)."""
    row = session.get(EncounterMilestone, encounter_key)
    if row is not None and row.coded_at is None:
        row.coded_at = at
        session.add(row)


def record_claim_step(session: Session, encounter_key: str, status: str, at: datetime) -> None:
    """Billed at the first claim step the payer accepted or decided (`BILLED`)."""
    row = session.get(EncounterMilestone, encounter_key)
    if row is not None and row.billed_at is None and status in BILLED:
        row.billed_at = at
        session.add(row)


def record_closed(session: Session, encounter_key: str, why: str) -> None:
    row = session.get(EncounterMilestone, encounter_key)
    if row is not None and row.closed is None and row.billed_at is None:
        row.closed = why
        session.add(row)


def _aware(at: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; they were written in UTC.
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def milestones(session: Session, since: datetime) -> list[Milestones]:
    """Every encounter still unbilled and open, and those received, coded or billed since."""
    query = select(EncounterMilestone).where(
        or_(
            (
                col(EncounterMilestone.billed_at).is_(None)
                & col(EncounterMilestone.closed).is_(None)
            ),
            col(EncounterMilestone.received_at) >= since,
            col(EncounterMilestone.coded_at) >= since,
            col(EncounterMilestone.billed_at) >= since,
        )
    )
    return [
        Milestones(
            encounter_key=row.encounter_key,
            encounter_class=row.encounter_class,
            discharged_at=datetime.fromisoformat(row.discharged_at),
            received_at=_aware(row.received_at) or _now(),
            coded_at=_aware(row.coded_at),
            billed_at=_aware(row.billed_at),
            closed=row.closed is not None,
        )
        for row in session.exec(query)
    ]
