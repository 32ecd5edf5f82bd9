"""Admins set each hospital's intake settings: FHIR intake rule, HL7 feed, payers."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from services.intake import hospital_settings
from services.intake.domain.rules import HospitalIntakeSettings
from shared.http import AdminOnly, RuntimeDep

router = APIRouter(dependencies=[AdminOnly])
PATH = "/v1/admin/hospitals/{hospital_id}/intake-settings"


@router.put(PATH)
async def set_intake_settings(
    hospital_id: str, body: HospitalIntakeSettings, rt: RuntimeDep
) -> HospitalIntakeSettings:
    try:
        await rt.db.run(lambda s: hospital_settings.save_settings(s, hospital_id, body))
    except hospital_settings.UnknownHospital as exc:
        raise HTTPException(404, str(exc)) from exc
    except hospital_settings.FacilityTaken as exc:
        raise HTTPException(409, str(exc)) from exc
    return body


@router.get(PATH)
async def get_intake_settings(hospital_id: str, rt: RuntimeDep) -> HospitalIntakeSettings:
    return await rt.db.run(lambda s: hospital_settings.settings_of(s, hospital_id))
