"""FHIR read-back: `GET /fhir/Encounter/{id}` with its diagnoses once coded, and the claim and
payment as `Claim` and `ExplanationOfBenefit` (by id, or searched by encounter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.intake import readback
from services.intake.domain.fhir_readback import (
    EncounterRecord,
    claim_resource,
    encounter_resource,
    explanation_of_benefit,
)
from services.intake.domain.outcome import FhirError, Issue
from services.intake.fhir_http import FhirHospital, fhir_response
from shared.http import RuntimeDep

router = APIRouter(prefix="/fhir", tags=["fhir"])


def _not_found(what: str) -> FhirError:
    return FhirError(404, [Issue("not-found", what, f"{what} is not known for this hospital")])


@router.get("/Encounter/{encounter_id}", response_class=JSONResponse)
async def read_encounter(encounter_id: str, hospital: FhirHospital, rt: RuntimeDep) -> JSONResponse:
    record = await rt.db.run(lambda s: readback.encounter_record(s, hospital, encounter_id))
    if record is None:
        raise _not_found(f"Encounter/{encounter_id}")
    return fhir_response(encounter_resource(record))


async def _claimed(rt: RuntimeDep, hospital: Any, claim_id: str) -> EncounterRecord:
    record = await rt.db.run(lambda s: readback.claim_record(s, hospital, claim_id))
    if record is None:
        raise _not_found(f"Claim/{claim_id}")
    return record


@router.get("/Claim/{claim_id}", response_class=JSONResponse)
async def read_claim(claim_id: str, hospital: FhirHospital, rt: RuntimeDep) -> JSONResponse:
    return fhir_response(claim_resource(await _claimed(rt, hospital, claim_id)))


@router.get("/ExplanationOfBenefit/{claim_id}", response_class=JSONResponse)
async def read_eob(claim_id: str, hospital: FhirHospital, rt: RuntimeDep) -> JSONResponse:
    return fhir_response(explanation_of_benefit(await _claimed(rt, hospital, claim_id)))


async def _search(
    rt: RuntimeDep,
    hospital: Any,
    encounter: str,
    build: Callable[[EncounterRecord], dict[str, Any]],
) -> JSONResponse:
    encounter_id = encounter.removeprefix("Encounter/")
    record = await rt.db.run(lambda s: readback.encounter_record(s, hospital, encounter_id))
    found = [build(record)] if record is not None and record.claim_id else []
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in found],
    }
    return fhir_response(bundle)


@router.get("/Claim", response_class=JSONResponse)
async def search_claims(encounter: str, hospital: FhirHospital, rt: RuntimeDep) -> JSONResponse:
    """`?encounter={id}`: the encounter's claim, once claims built one."""
    return await _search(rt, hospital, encounter, claim_resource)


@router.get("/ExplanationOfBenefit", response_class=JSONResponse)
async def search_eobs(encounter: str, hospital: FhirHospital, rt: RuntimeDep) -> JSONResponse:
    """`?encounter={id}`: the payer's answer to the encounter's claim."""
    return await _search(rt, hospital, encounter, explanation_of_benefit)


CAPABILITIES: dict[str, Any] = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "date": "2026-09-01",
    "kind": "instance",
    "fhirVersion": "4.0.1",
    "format": ["json"],
    "rest": [
        {
            "mode": "server",
            "security": {"description": "the hospital's API key in the X-API-Key header"},
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "resource": [
                {"type": "Encounter", "interaction": [{"code": "create"}, {"code": "read"}]},
                *(
                    {
                        "type": kind,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [{"name": "encounter", "type": "reference"}],
                    }
                    for kind in ("Claim", "ExplanationOfBenefit")
                ),
            ],
        }
    ],
}


@router.get("/metadata", response_class=JSONResponse)
async def metadata() -> JSONResponse:
    """What this FHIR endpoint does (FHIR clients read it first)."""
    return fhir_response(CAPABILITIES)
