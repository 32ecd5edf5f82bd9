"""Use cases of a hospital's intake settings: FHIR intake rule, HL7 feed mapping, payers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from services.intake.db import IntakeRepository
from services.intake.domain.rules import HospitalIntakeSettings
from services.intake.inbound_db import Hl7Facility, HospitalIntakeSettingsRow, InboundRepository


class UnknownHospital(Exception):
    pass


class FacilityTaken(Exception):
    """An HL7 sending facility already maps to another hospital."""


def settings_of(session: Session, hospital_id: str) -> HospitalIntakeSettings:
    """The hospital's settings; the defaults until an admin set them."""
    row = InboundRepository(session).settings(hospital_id)
    if row is None:
        return HospitalIntakeSettings()
    return HospitalIntakeSettings.model_validate_json(row.settings)


def save_settings(session: Session, hospital_id: str, settings: HospitalIntakeSettings) -> None:
    if IntakeRepository(session).hospital(hospital_id) is None:
        raise UnknownHospital(f"no hospital {hospital_id}")
    repo = InboundRepository(session)
    wanted = set(settings.hl7.sending_facilities)
    for facility in sorted(wanted):
        owner = repo.facility(facility)
        if owner is not None and owner.hospital_id != hospital_id:
            raise FacilityTaken(f"sending facility {facility} belongs to another hospital")
    for old in repo.facilities(hospital_id):
        if old.facility not in wanted:
            repo.delete(old)
    for facility in sorted(wanted):
        if repo.facility(facility) is None:
            repo.add(Hl7Facility(facility=facility, hospital_id=hospital_id))
    row = repo.settings(hospital_id) or HospitalIntakeSettingsRow(
        hospital_id=hospital_id, settings=""
    )
    row.settings = settings.model_dump_json()
    row.updated_at = datetime.now(UTC)
    repo.add(row)
