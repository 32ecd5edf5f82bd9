"""The vendor figures coding publishes for each hospital and month (`coding.scorecards`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, Session, SQLModel


class HospitalScorecard(SQLModel, table=True):
    """One hospital's month as coding last published it: every vendor's figures."""

    __tablename__ = "hospital_scorecard"

    hospital_id: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=7)  # YYYY-MM
    as_of: datetime
    vendors: str  # JSON list of shared.events.coding.ScorecardFigures


class ScorecardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, hospital_id: str, period: str) -> HospitalScorecard | None:
        return self.session.get(HospitalScorecard, (hospital_id, period))

    def keep_newest(self, card: HospitalScorecard) -> None:
        """Store `card` unless a newer figure for the same month is already stored."""
        stored = self.get(card.hospital_id, card.period)
        if stored is None:
            self.session.add(card)
        elif _utc(stored.as_of) < _utc(card.as_of):
            stored.as_of, stored.vendors = card.as_of, card.vendors
            self.session.add(stored)


def _utc(moment: datetime) -> datetime:
    """SQLite gives datetimes back without a zone: they are UTC."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
