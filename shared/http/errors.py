"""problem+json (RFC 9457) for every error a service answers: validation, HTTP and unexpected.

Every problem carries the request's correlation id (`X-Request-ID`), the same id its log lines
carry, so a caller's report leads to the log without the log holding any field value.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.failures import error_field

PROBLEM = "application/problem+json"
#: The current request's correlation id, set by `shared.http.context.RequestConventions`.
CORRELATION_ID: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if correlation_id := CORRELATION_ID.get():
        body["correlation_id"] = correlation_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field(error: dict[str, Any]) -> str:
    loc = error.get("loc", ())
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return "body"  # a JSON syntax error, at a character position
    return error_field(error)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        raw = list(exc.errors())
        errors = [{"field": _field(e), "message": e.get("msg", "invalid")} for e in raw]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        if any(e.get("type") == "json_invalid" for e in raw):
            return problem(400, "Malformed JSON", f"body: {first['message']}", errors=errors)
        return problem(
            422,
            "Invalid request",
            f"{first['field']}: {first['message']}",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own 404 / 405 as well as the routes' HTTPExceptions.
        response = problem(exc.status_code, "Request failed", str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response
