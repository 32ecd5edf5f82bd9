"""The OpenAPI document tells integrators every error answer: problem+json, and when.

FastAPI documents a 422 of its own shape; our services answer problem+json for 400 (malformed
JSON), 401 (credentials), 403 (a role that may not use the route), 404 (an id that is not
yours), 413 (body over the limit) and 422 (a field that is wrong, named). This adds those
answers to each operation from its shape (a body, parameters, security, a path id) and turns
every declared problem answer into `application/problem+json` with the `Problem` schema.
Routes declare the rest (409, 503) with `problem_response`. An answer a route documents in a
media type of its own (intake's FHIR routes: `application/fhir+json` OperationOutcomes) is
left as the route says.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.http.errors import PROBLEM

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
JSON = "application/json"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each wrong field.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "correlation_id": {"type": "string", "description": "also in the service's log line"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "findings": {"type": "array", "items": {"type": "object"}},
    },
}
ALWAYS_PROBLEM = frozenset({"400", "401", "403", "404", "409", "413", "422"})
DESCRIPTIONS = {
    "400": "Malformed JSON body",
    "401": "Credentials missing or unknown",
    "403": "The credentials' role may not use this route",
    "404": "No such resource for these credentials",
    "409": "Conflicts with what was stored before",
    "413": "Body over the size limit",
    "422": "A field is invalid: `errors` names it",
    "503": "A dependency is unavailable; retry later",
}


def problem_response(description: str) -> dict[str, Any]:
    """A route's extra problem answer, e.g. `responses={409: problem_response("...")}`."""
    return {"description": description, "content": {PROBLEM: {"schema": PROBLEM_REF}}}


def _problem_codes(path: str, operation: dict[str, Any]) -> set[str]:
    codes = set()
    if "requestBody" in operation:
        codes |= {"400", "413", "422"}
    if operation.get("parameters"):
        codes.add("422")
    if operation.get("security"):
        codes |= {"401", "403"}
    if "{" in path:
        codes.add("404")
    return codes


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses and "HTTPValidationError" in str(responses["422"]):
                del responses["422"]
            for code in _problem_codes(path, operation):
                responses.setdefault(code, {"description": DESCRIPTIONS[code]})
            for code, response in responses.items():
                content = response.get("content", {})
                if set(content) - {PROBLEM, JSON}:
                    continue  # the route answers in a format of its own (FHIR OperationOutcome)
                if code in ALWAYS_PROBLEM or PROBLEM in content:
                    response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
    return schema


def document_problems(app: FastAPI) -> None:
    """Generate `app`'s OpenAPI with the problem answers (once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
