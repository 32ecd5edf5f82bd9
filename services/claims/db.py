"""Claims' tables: payers, claims with their 837 and findings, and control-number sequences."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select


def _now() -> datetime:
    return datetime.now(UTC)


class PayerRow(SQLModel, table=True):
    __tablename__ = "payer"

    payer_id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=60)
    claim_types: str  # comma-separated: professional,institutional
    receiver_id: str = Field(max_length=15)


class ClaimRow(SQLModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (UniqueConstraint("encounter_key", "version"),)

    id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    version: int = 1
    patient_control_number: str = Field(unique=True, max_length=20)
    claim_type: str = Field(max_length=20)
    payer_id: str = Field(max_length=80)
    total_charge: str
    status: str = Field(max_length=20)
    reason: str
    findings: str  # JSON list
    x12: str
    interchange_control_number: int
    created_at: datetime = Field(default_factory=_now)


class ControlCounter(SQLModel, table=True):
    """ISA13 / GS06 / ST02 sequences: owned here, never random or clock-made."""

    __tablename__ = "control_counter"

    name: str = Field(primary_key=True, max_length=40)
    value: int = 0


TABLES = (PayerRow, ClaimRow, ControlCounter)


class ClaimsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def payer(self, payer_id: str) -> PayerRow | None:
        return self.session.get(PayerRow, payer_id)

    def claim_for(self, encounter_key: str, version: int) -> ClaimRow | None:
        query = select(ClaimRow).where(
            ClaimRow.encounter_key == encounter_key, ClaimRow.version == version
        )
        return self.session.exec(query).first()

    def claims_for(self, encounter_key: str) -> list[ClaimRow]:
        query = select(ClaimRow).where(ClaimRow.encounter_key == encounter_key)
        return list(self.session.exec(query.order_by(col(ClaimRow.version))))

    def claim(self, claim_id: str) -> ClaimRow | None:
        return self.session.get(ClaimRow, claim_id)

    def next_value(self, name: str, count: int = 1) -> int:
        """Reserve `count` numbers of the named sequence; returns the first."""
        row = self.session.exec(
            select(ControlCounter).where(ControlCounter.name == name).with_for_update()
        ).first()
        if row is None:
            row = ControlCounter(name=name, value=0)
        first = row.value + 1
        row.value += count
        self.add(row)
        self.session.flush()
        return first


class ReservedControlNumbers:
    """A block of control numbers reserved from the database, handed to the 837 writer."""

    def __init__(self, interchange: int, group: int, transaction: int) -> None:
        self._next = {"interchange": interchange, "group": group, "transaction": transaction}

    def _take(self, name: str) -> int:
        value = self._next[name]
        self._next[name] += 1
        return value

    def next_interchange(self) -> int:
        return self._take("interchange")

    def next_group(self) -> int:
        return self._take("group")

    def next_transaction(self) -> int:
        return self._take("transaction")
