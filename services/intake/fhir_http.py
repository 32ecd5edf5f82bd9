"""FHIR at the HTTP edge: application/fhir+json bodies, OperationOutcome errors, and the
hospital behind the `X-API-Key` of a FHIR request."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from services.intake.db import Hospital, IntakeRepository
from services.intake.domain.outcome import FHIR_JSON, FhirError, Issue, operation_outcome
from shared.http import RuntimeDep, api_key_owner

JSON_TYPES = ("application/fhir+json", "application/json", "")


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers or None)


def install_fhir_errors(app: FastAPI) -> None:
    """`FhirError` answers with its OperationOutcome, as FHIR clients expect."""

    async def answer(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FhirError)
        return fhir_response(operation_outcome(exc.issues), exc.status)

    app.add_exception_handler(FhirError, answer)


async def fhir_hospital(
    rt: RuntimeDep, x_api_key: Annotated[str | None, Header()] = None
) -> Hospital:
    try:
        return await api_key_owner(
            rt, x_api_key, lambda s, h: IntakeRepository(s).hospital_by_key_hash(h)
        )
    except HTTPException as exc:
        raise FhirError(exc.status_code, [Issue("login", "X-API-Key", str(exc.detail))]) from exc


FhirHospital = Annotated[Hospital, Depends(fhir_hospital)]


async def fhir_json(request: Request, root: str) -> Any:
    """The JSON body of a FHIR request (`root` names it in errors)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise FhirError(415, [Issue("not-supported", root, "send application/fhir+json")])
    try:
        return json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise FhirError(400, [Issue("structure", root, f"not JSON: {exc.msg}")]) from exc
    except UnicodeDecodeError as exc:
        raise FhirError(400, [Issue("structure", root, "not UTF-8")]) from exc
