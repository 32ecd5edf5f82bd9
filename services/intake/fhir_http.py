"""FHIR at the HTTP edge: application/fhir+json bodies, OperationOutcome errors (also for bad
parameters and unknown paths under `/fhir/`), the hospital behind the `X-API-Key` of a FHIR
request, and how the OpenAPI document describes all of it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.intake.api import CurrentHospital
from services.intake.domain.fhir_validate import error_element
from services.intake.domain.outcome import FHIR_JSON, FhirError, Issue, operation_outcome

JSON_TYPES = ("application/fhir+json", "application/json", "")
PREFIX = "/fhir/"


class FhirJSONResponse(JSONResponse):
    """A FHIR resource: `application/fhir+json` (also what the OpenAPI says routes answer)."""

    media_type = FHIR_JSON


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> JSONResponse:
    return FhirJSONResponse(body, status_code=status, headers=headers or None)


def _outcome(exc: FhirError) -> JSONResponse:
    return fhir_response(operation_outcome(exc.issues), exc.status)


def _http_issue(status: int) -> str:
    return {401: "login", 404: "not-found", 405: "not-supported"}.get(status, "processing")


def install_fhir_errors(app: FastAPI) -> None:
    """`FhirError` answers with its OperationOutcome, as FHIR clients expect; so do a bad
    parameter (400 naming it) and an HTTP error on a `/fhir/` path. Elsewhere problem+json."""
    problems = dict(app.exception_handlers)

    async def fhir_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FhirError)
        return _outcome(exc)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith(PREFIX):
            return await problems[RequestValidationError](request, exc)
        issues = [
            Issue("invalid", error_element(e), f"{error_element(e)}: {e.get('msg', 'invalid')}")
            for e in exc.errors()
        ]
        return _outcome(FhirError(400, issues))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith(PREFIX):
            return await problems[StarletteHTTPException](request, exc)
        issue = Issue(_http_issue(exc.status_code), request.url.path, str(exc.detail))
        return _outcome(FhirError(exc.status_code, [issue]))

    app.add_exception_handler(FhirError, fhir_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


#: The hospital of the request's X-API-Key; a 401 is an OperationOutcome (see above).
FhirHospital = CurrentHospital


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


def resource_schema(*kinds: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": list(kinds)}},
    }


OUTCOME_SCHEMA: dict[str, Any] = {
    **resource_schema("OperationOutcome"),
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
ERRORS = {
    400: "Not FHIR JSON, or a parameter is invalid: the OperationOutcome names it",
    401: "X-API-Key missing or unknown",
    404: "Not known for this hospital",
    409: "The identifier already names an encounter with other content",
    415: "Not application/fhir+json",
    422: "A business rule refused it: the OperationOutcome says which",
}


def fhir_answers(
    ok: dict[int, tuple[str, dict[str, Any]]], errors: Iterable[int]
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a FHIR operation: its results and errors as application/fhir+json.

    `ok` maps each success status to (description, schema).
    """
    answers: dict[int | str, dict[str, Any]] = {
        status: {"description": text, "content": {FHIR_JSON: {"schema": schema}}}
        for status, (text, schema) in ok.items()
    }
    for status in errors:
        answers[status] = {
            "description": ERRORS[status],
            "content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}},
        }
    return answers


def fhir_body(description: str) -> dict[str, Any]:
    """OpenAPI `requestBody` of a FHIR operation that reads its body itself."""
    schema = {"type": "object", "description": description}
    return {
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}},
        }
    }
