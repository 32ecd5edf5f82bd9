"""Per request: a correlation id, the request count, and a 500 that keeps the connection.

An unexpected error is answered here, inside Starlette's error middleware, and not raised on:
re-raising makes the server log a traceback (whose messages can quote field values) and close
the keep-alive connection. The log line carries the error type, where it was raised and the
correlation id; the problem+json body carries the same id.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.failures import where
from shared.http.errors import CORRELATION_ID, problem
from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS, UNEXPECTED_ERRORS

log = structlog.get_logger()
REQUEST_ID_HEADER = b"x-request-id"
# An id a caller sends is echoed only when it cannot smuggle anything into logs or headers.
ACCEPTED_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


def _request_id(scope: Scope) -> str:
    sent = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"")
    return sent.decode() if ACCEPTED_REQUEST_ID.match(sent) else uuid.uuid4().hex


class RequestConventions:
    """Correlation id in and out (`X-Request-ID`), request counts, unexpected errors as 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = CORRELATION_ID.set(request_id)
        began = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await self.app(scope, receive, send_with_id)
                except Exception as exc:
                    route = _route(scope)
                    UNEXPECTED_ERRORS.labels(route=route, error=type(exc).__name__).inc()
                    # The type and place only: messages (of database errors, say) may quote values.
                    log.error(
                        "http.unexpected_error",
                        request_id=request_id,
                        method=scope["method"],
                        route=route,
                        error=type(exc).__name__,
                        at=where(exc),
                    )
                    if not started:
                        detail = "the request could not be completed; retry later"
                        await problem(500, "Internal error", detail)(scope, receive, send_with_id)
        finally:
            CORRELATION_ID.reset(token)
            route = _route(scope)
            HTTP_REQUESTS.labels(method=scope["method"], route=route, status=str(status)).inc()
            HTTP_SECONDS.labels(
                method=scope["method"], route=route, status_class=f"{status // 100}xx"
            ).observe(time.perf_counter() - began)


def _route(scope: Scope) -> str:
    return getattr(scope.get("route"), "path", "unmatched")  # the template, not ids
