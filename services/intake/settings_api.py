"""Admins set each hospital's intake settings: FHIR intake rule, HL7 feed, payers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from services.intake import hospital_settings
from services.intake.domain.rules import HospitalIntakeSettings
from shared.http import AdminOnly, RuntimeDep, problem_response

router = APIRouter(dependencies=[AdminOnly])
PATH = "/v1/admin/hospitals/{hospital_id}/intake-settings"
HospitalIdPath = Annotated[str, Path(pattern=r"^[a-z0-9-]{2,64}$")]


@router.put(PATH, responses={409: problem_response("A sending facility is another hospital's")})
async def set_intake_settings(
    hospital_id: HospitalIdPath, body: HospitalIntakeSettings, rt: RuntimeDep
) -> HospitalIntakeSettings:
    try:
        await rt.db.run(lambda s: hospital_settings.save_settings(s, hospital_id, body))
    except hospital_settings.UnknownHospital as exc:
        raise HTTPException(404, str(exc)) from exc
    except hospital_settings.FacilityTaken as exc:
        raise HTTPException(409, str(exc)) from exc
    return body


@router.get(PATH)
async def get_intake_settings(
    hospital_id: HospitalIdPath, rt: RuntimeDep
) -> HospitalIntakeSettings:
    return await rt.db.run(lambda s: hospital_settings.settings_of(s, hospital_id))
