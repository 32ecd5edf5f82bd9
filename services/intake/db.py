"""Intake's tables: hospitals (with hashed API keys), the encounters they pushed, and the
physician queries they are asked; `TABLES` also names the tables of the access log, FHIR / HL7
intake, bulk jobs and webhooks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from services.intake.access_db import AccessRecord
from services.intake.bulk_db import BULK_TABLES
from services.intake.claims_db import BillingWorkItem, ClaimVersion
from services.intake.inbound_db import INBOUND_TABLES, EncounterIdentifier
from services.intake.outbound_db import OUTBOUND_TABLES
from services.intake.scorecard_db import HospitalScorecard
from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


class Hospital(SQLModel, table=True):
    __tablename__ = "hospital"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=60)
    npi: str = Field(max_length=10)
    tax_id: str = Field(max_length=10)
    address: str  # JSON of shared.events.intake.Address
    api_key_hash: str = Field(index=True, max_length=64)
    created_at: datetime = Field(default_factory=_now)
    # Who follows up physician queries left unanswered after the last reminder.
    cdi_contact: str | None = Field(default=None, max_length=200)


class Encounter(SQLModel, table=True):
    __tablename__ = "encounter"
    __table_args__ = (
        UniqueConstraint("hospital_id", "external_id"),
        UniqueConstraint("hospital_id", "idempotency_key"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    hospital_id: str = Field(index=True, max_length=64)
    external_id: str = Field(max_length=64)
    encounter_key: str = Field(unique=True, max_length=140)
    idempotency_key: str | None = Field(default=None, max_length=200)
    encounter_class: str = Field(max_length=20)
    document: str = Field(sa_type=EncryptedText)  # the EncounterDocument as JSON (PHI)
    status: str = Field(default="received", max_length=30)
    claim_id: str | None = Field(default=None, max_length=64)
    claim_pcn: str | None = Field(default=None, max_length=38)  # CLM01, as the payer echoes it
    claim_status: str | None = Field(default=None, max_length=30)
    claim_reason: str | None = None
    claim_findings: str | None = None  # JSON list
    claim_total: str | None = None
    claim_paid: str | None = None
    claim_history: str = "[]"  # JSON list of {status, reason, at}
    # Why a coder returned the encounter uncoded ("<reason>: <note>"); may quote the chart.
    return_reason: str | None = Field(default=None, sa_type=EncryptedText)
    received_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class HospitalQuery(SQLModel, table=True):
    """A coder's query to the hospital's physician, as the hospital sees and answers it."""

    __tablename__ = "hospital_query"

    id: str = Field(primary_key=True, max_length=64)
    hospital_id: str = Field(index=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    format: str = Field(max_length=20)  # open_ended | multiple_choice | yes_no
    yes_no_use: str | None = Field(default=None, max_length=40)
    content: str = Field(sa_type=EncryptedText)  # QueryContent as JSON (PHI)
    status: str = Field(default="open", max_length=20)  # open | answered | withdrawn | cancelled
    raised_at: datetime
    reminders_sent: int = 0
    last_reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_to: str | None = Field(default=None, max_length=200)  # the CDI contact
    answered_by_npi: str | None = Field(default=None, max_length=10)
    answer: str | None = Field(default=None, sa_type=EncryptedText)  # PhysicianAnswer (PHI)
    closed_at: datetime | None = None


TABLES = (
    Hospital,
    Encounter,
    AccessRecord,
    HospitalQuery,
    HospitalScorecard,
    *INBOUND_TABLES,
    *BULK_TABLES,
    *OUTBOUND_TABLES,
    ClaimVersion,
    BillingWorkItem,
)


class IntakeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def hospital_by_key_hash(self, key_hash: str) -> Hospital | None:
        return self.session.exec(select(Hospital).where(Hospital.api_key_hash == key_hash)).first()

    def hospital(self, hospital_id: str) -> Hospital | None:
        return self.session.get(Hospital, hospital_id)

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def encounter(self, hospital_id: str, encounter_id: str) -> Encounter | None:
        row = self.session.get(Encounter, encounter_id)
        return row if row is not None and row.hospital_id == hospital_id else None

    def encounter_by_key(self, encounter_key: str) -> Encounter | None:
        query = select(Encounter).where(Encounter.encounter_key == encounter_key)
        return self.session.exec(query).first()

    def encounter_by_external_id(self, hospital_id: str, external_id: str) -> Encounter | None:
        query = select(Encounter).where(
            Encounter.hospital_id == hospital_id, Encounter.external_id == external_id
        )
        return self.session.exec(query).first()

    def encounters_by_external_ids(
        self, hospital_id: str, external_ids: list[str]
    ) -> dict[str, Encounter]:
        query = select(Encounter).where(
            Encounter.hospital_id == hospital_id, col(Encounter.external_id).in_(external_ids)
        )
        return {row.external_id: row for row in self.session.exec(query)}

    def encounter_by_idempotency_key(self, hospital_id: str, key: str) -> Encounter | None:
        query = select(Encounter).where(
            Encounter.hospital_id == hospital_id, Encounter.idempotency_key == key
        )
        return self.session.exec(query).first()

    def query(self, hospital_id: str, query_id: str) -> HospitalQuery | None:
        row = self.session.get(HospitalQuery, query_id)
        return row if row is not None and row.hospital_id == hospital_id else None

    def query_by_id(self, query_id: str) -> HospitalQuery | None:
        return self.session.get(HospitalQuery, query_id)

    def queries(self, hospital_id: str, status: str | None, limit: int) -> list[HospitalQuery]:
        query = select(HospitalQuery).where(HospitalQuery.hospital_id == hospital_id)
        if status:
            query = query.where(HospitalQuery.status == status)
        query = query.order_by(col(HospitalQuery.raised_at)).limit(limit)
        return list(self.session.exec(query))

    def open_queries_of(self, encounter_key: str) -> list[HospitalQuery]:
        query = select(HospitalQuery).where(
            HospitalQuery.encounter_key == encounter_key, HospitalQuery.status == "open"
        )
        return list(self.session.exec(query))

    def encounters(self, hospital_id: str, limit: int, status: str | None) -> list[Encounter]:
        query = select(Encounter).where(Encounter.hospital_id == hospital_id)
        if status:
            query = query.where(Encounter.status == status)
        query = query.order_by(col(Encounter.received_at).desc()).limit(limit)
        return list(self.session.exec(query))

    def identifiers_by_external_id(
        self, hospital_id: str, external_ids: list[str]
    ) -> dict[str, tuple[str, str]]:
        """(system, value) of the hospital's encounters with these external ids that have one."""
        query = (
            select(Encounter.external_id, EncounterIdentifier.system, EncounterIdentifier.value)
            .join(EncounterIdentifier, col(EncounterIdentifier.encounter_id) == col(Encounter.id))
            .where(
                Encounter.hospital_id == hospital_id, col(Encounter.external_id).in_(external_ids)
            )
        )
        return {
            external_id: (system, value) for external_id, system, value in self.session.exec(query)
        }
