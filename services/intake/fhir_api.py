"""FHIR R4 intake: `POST /fhir/Bundle` (transaction, batch, collection) and
`POST /fhir/Encounter` (one Encounter with contained parts)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from services.intake import fhir_intake, hospital_settings
from services.intake.domain.fhir_mapping import ReadRequest, read_bundle, read_encounter
from services.intake.domain.fhir_response import response_bundle
from services.intake.domain.outcome import FhirError, Issue, http_status
from services.intake.fhir_http import (
    OUTCOME_SCHEMA,
    FhirHospital,
    FhirJSONResponse,
    fhir_answers,
    fhir_body,
    fhir_json,
    fhir_response,
    resource_schema,
)
from shared.http import RuntimeDep, SettingsDep

router = APIRouter(prefix="/fhir", tags=["fhir"])


async def _store(
    rt: RuntimeDep, settings: SettingsDep, hospital: Any, read: ReadRequest
) -> dict[Any, Any]:
    def store(session: Any) -> dict[Any, Any]:
        return fhir_intake.store_encounters(session, settings, hospital, read)

    try:
        return await rt.db.run(store)
    except IntegrityError:  # The same encounter raced in from another request: replay.
        return await rt.db.run(store)


async def _read(rt: RuntimeDep, hospital: Any, body: Any, reader: Any) -> ReadRequest:
    rules = await rt.db.run(lambda s: hospital_settings.settings_of(s, hospital.id))
    # Validation is CPU work on a big Bundle: keep it off the event loop.
    read: ReadRequest = await asyncio.to_thread(reader, body, rules)
    if read.kind in ("transaction", "encounter") and read.errors():
        errors = read.errors()
        raise FhirError(http_status(errors), errors)
    return read


def _taking(path: str, ok: dict[int, tuple[str, dict[str, Any]]], body: str, **options: Any) -> Any:
    """A FHIR POST route: its answers and the body it reads itself, as the OpenAPI says."""
    return router.post(
        path,
        response_class=FhirJSONResponse,
        responses=fhir_answers(ok, (400, 401, 409, 415, 422)),
        openapi_extra=fhir_body(body),
        **options,
    )


@_taking(
    "/Bundle",
    {200: ("A transaction-response or batch-response Bundle", resource_schema("Bundle"))},
    "A transaction, batch or collection Bundle",
)
async def post_bundle(
    request: Request, hospital: FhirHospital, rt: RuntimeDep, settings: SettingsDep
) -> JSONResponse:
    """Take a transaction, batch or collection Bundle; answer with a response Bundle."""
    read = await _read(rt, hospital, await fhir_json(request, "Bundle"), read_bundle)
    stored = await _store(rt, settings, hospital, read)
    return fhir_response(response_bundle(read, stored))


@_taking(
    "/Encounter",
    {
        200: ("Known already: stored before (Location names it)", OUTCOME_SCHEMA),
        201: ("Stored (Location names it); warnings in the OperationOutcome", OUTCOME_SCHEMA),
    },
    "One Encounter, its parts contained or named by identifier",
    status_code=201,
)
async def post_encounter(
    request: Request, hospital: FhirHospital, rt: RuntimeDep, settings: SettingsDep
) -> JSONResponse:
    """Take one Encounter whose parts are contained in it (or named by identifier)."""
    read = await _read(rt, hospital, await fhir_json(request, "Encounter"), read_encounter)
    mapped = read.encounters[0]
    if mapped.refusal is not None:
        issue = Issue("business-rule", "Encounter", f"not taken: {mapped.refusal}")
        raise FhirError(422, [issue])
    stored = (await _store(rt, settings, hospital, read))[mapped]
    location = f"Encounter/{stored.encounter_id}"
    outcome = {"resourceType": "OperationOutcome", "issue": [i.resource() for i in mapped.issues]}
    if not mapped.issues:
        outcome["issue"] = [{"severity": "information", "code": "informational",
                             "diagnostics": "stored", "expression": ["Encounter"]}]  # fmt: skip
    return fhir_response(outcome, 201 if stored.created else 200, Location=location)
