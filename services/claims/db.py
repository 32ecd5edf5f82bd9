"""Claims' tables: payers, claims with their 837 and findings, and control-number sequences."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


class PayerRow(SQLModel, table=True):
    __tablename__ = "payer"

    payer_id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=60)
    claim_types: str  # comma-separated: professional,institutional
    receiver_id: str = Field(max_length=15)
    # Adjudication rules of the simulated payer (services.claims.payer_sim), as JSON.
    simulator: str = "{}"


class ClaimRow(SQLModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (UniqueConstraint("encounter_key", "version"),)

    id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    version: int = 1
    patient_control_number: str = Field(unique=True, max_length=20)
    claim_type: str = Field(max_length=20)
    payer_id: str = Field(max_length=80)
    total_charge: str
    status: str = Field(max_length=20)
    reason: str
    findings: str  # JSON list
    x12: str = Field(sa_type=EncryptedText)  # names, birth dates, member ids
    interchange_control_number: int
    # The claim's input document (JSON, PHI), to rebuild the Claim when answers come.
    document: str = Field(sa_type=EncryptedText)
    paid: str | None = None
    remittance: str | None = None  # JSON: per line id, paid amount and adjustments
    created_at: datetime = Field(default_factory=_now)


class ClaimTransition(SQLModel, table=True):
    """Every status a claim went through, with the reason and the document that moved it."""

    __tablename__ = "claim_transition"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: str = Field(index=True, max_length=64)
    source: str = Field(max_length=20)
    target: str = Field(max_length=20)
    reason: str
    evidence: str = ""
    at: datetime = Field(default_factory=_now)


class PayerResponse(SQLModel, table=True):
    """The payer's X12 answers, kept as received."""

    __tablename__ = "payer_response"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=10)  # 999 | 277CA | 835
    x12: str = Field(sa_type=EncryptedText)
    received_at: datetime = Field(default_factory=_now)


class ControlCounter(SQLModel, table=True):
    """ISA13 / GS06 / ST02 sequences: owned here, never random or clock-made."""

    __tablename__ = "control_counter"

    name: str = Field(primary_key=True, max_length=40)
    value: int = 0


TABLES = (PayerRow, ClaimRow, ClaimTransition, PayerResponse, ControlCounter)


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

    def claims_in_status(self, status: str, limit: int) -> list[ClaimRow]:
        query = select(ClaimRow).where(ClaimRow.status == status)
        return list(self.session.exec(query.order_by(col(ClaimRow.created_at)).limit(limit)))

    def transitions(self, claim_id: str) -> list[ClaimTransition]:
        query = select(ClaimTransition).where(ClaimTransition.claim_id == claim_id)
        return list(self.session.exec(query.order_by(col(ClaimTransition.id))))

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
