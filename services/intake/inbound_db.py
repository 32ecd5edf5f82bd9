"""Tables of the FHIR and HL7 intake: each hospital's intake settings, the source identifier of
every encounter, and HL7 v2 visits assembled from several messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


class HospitalIntakeSettingsRow(SQLModel, table=True):
    """What an admin set for the hospital (JSON of `domain.rules.HospitalIntakeSettings`)."""

    __tablename__ = "hospital_intake_settings"

    hospital_id: str = Field(primary_key=True, max_length=64)
    settings: str
    updated_at: datetime = Field(default_factory=_now)


class Hl7Facility(SQLModel, table=True):
    """An HL7 sending facility (MSH-4) and the hospital it is."""

    __tablename__ = "hl7_facility"

    facility: str = Field(primary_key=True, max_length=200)
    hospital_id: str = Field(index=True, max_length=64)


class EncounterIdentifier(SQLModel, table=True):
    """The identifier an encounter arrived under: FHIR Encounter.identifier, HL7 visit number."""

    __tablename__ = "encounter_identifier"
    __table_args__ = (UniqueConstraint("hospital_id", "system", "value"),)

    encounter_id: str = Field(primary_key=True, max_length=64)
    hospital_id: str = Field(max_length=64)
    system: str = Field(max_length=500)
    value: str = Field(max_length=200)
    source: str = Field(max_length=10)  # fhir | hl7


class Hl7Visit(SQLModel, table=True):
    """One visit number's messages so far, until the hospital's rule releases it to coding."""

    __tablename__ = "hl7_visit"
    __table_args__ = (UniqueConstraint("hospital_id", "visit_number"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    hospital_id: str = Field(max_length=64)
    visit_number: str = Field(max_length=64)
    state: str = Field(sa_type=EncryptedText)  # JSON of domain.hl7_visit.VisitState (PHI)
    complete: bool = False  # discharge and a note arrived
    last_message_at: datetime = Field(default_factory=_now, index=True)
    released_encounter_id: str | None = Field(default=None, max_length=64, index=True)


class Hl7Message(SQLModel, table=True):
    """A message control id seen from a facility, with the ACK it got (resent: same ACK)."""

    __tablename__ = "hl7_message"

    facility: str = Field(primary_key=True, max_length=200)
    control_id: str = Field(primary_key=True, max_length=199)
    ack_code: str = Field(max_length=2)
    ack: str  # the ACK message as sent (no PHI: MSH, MSA, ERR)
    received_at: datetime = Field(default_factory=_now)


INBOUND_TABLES = (HospitalIntakeSettingsRow, Hl7Facility, EncounterIdentifier, Hl7Visit, Hl7Message)


class InboundRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def settings(self, hospital_id: str) -> HospitalIntakeSettingsRow | None:
        return self.session.get(HospitalIntakeSettingsRow, hospital_id)

    def facilities(self, hospital_id: str) -> list[Hl7Facility]:
        query = select(Hl7Facility).where(Hl7Facility.hospital_id == hospital_id)
        return list(self.session.exec(query))

    def facility(self, facility: str) -> Hl7Facility | None:
        return self.session.get(Hl7Facility, facility)

    def delete(self, row: SQLModel) -> None:
        self.session.delete(row)

    def identifier(self, hospital_id: str, system: str, value: str) -> EncounterIdentifier | None:
        query = select(EncounterIdentifier).where(
            EncounterIdentifier.hospital_id == hospital_id,
            EncounterIdentifier.system == system,
            EncounterIdentifier.value == value,
        )
        return self.session.exec(query).first()

    def identifier_of(self, encounter_id: str) -> EncounterIdentifier | None:
        return self.session.get(EncounterIdentifier, encounter_id)

    def visit(self, hospital_id: str, visit_number: str) -> Hl7Visit | None:
        query = select(Hl7Visit).where(
            Hl7Visit.hospital_id == hospital_id, Hl7Visit.visit_number == visit_number
        )
        return self.session.exec(query).first()

    def quiet_visits(self, before: datetime, limit: int = 100) -> list[Hl7Visit]:
        """Complete visits not released yet whose last message came before `before`."""
        query = (
            select(Hl7Visit)
            .where(
                col(Hl7Visit.complete).is_(True),
                col(Hl7Visit.released_encounter_id).is_(None),
                Hl7Visit.last_message_at < before,
            )
            .order_by(col(Hl7Visit.last_message_at))
            .limit(limit)
            # Replicas release side by side: each visit by one of them (PostgreSQL; SQLite
            # has one writer).
            .with_for_update(skip_locked=True)
        )
        return list(self.session.exec(query))

    def message(self, facility: str, control_id: str) -> Hl7Message | None:
        return self.session.get(Hl7Message, (facility, control_id))
