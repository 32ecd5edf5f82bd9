"""HTTP conventions every service's API shares: problem+json errors, body limits, credentials."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import HTTP_REQUESTS, render
from shared.outbox import pending_count
from shared.service import Runtime

log = structlog.get_logger()
T = TypeVar("T")
PROBLEM = "application/problem+json"
MAX_BODY_BYTES = 2_000_000


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return "body"  # a JSON syntax error, at a character position
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


class BodySizeLimit:
    """413 for bodies over the limit, whether announced by Content-Length or streamed chunked.

    The body is read (at most the limit) before the app runs, then handed to it unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _too_large()(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > MAX_BODY_BYTES:
                await _too_large()(scope, receive, send)
                return
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], then=receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()  # e.g. http.disconnect while the response streams
        return {"type": "http.disconnect"}

    return receive


def _too_large() -> JSONResponse:
    return problem(413, "Request body too large", f"limit is {MAX_BODY_BYTES} bytes")


def install_http_conventions(app: FastAPI) -> None:
    app.add_middleware(BodySizeLimit)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
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

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # The type only: messages of database errors may carry request data.
        log.error("http.unexpected_error", error=type(exc).__name__)
        return problem(500, "Internal error", "the request could not be completed; retry later")


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_admin(authorization: str | None, admin_token: str) -> None:
    expected = f"Bearer {admin_token}".encode()
    if not authorization or not hmac.compare_digest(authorization.encode(), expected):
        raise HTTPException(401, "admin token required", headers={"WWW-Authenticate": "Bearer"})


def require_admin(admin_token: str) -> Any:
    """A route dependency: `dependencies=[require_admin(settings.admin_token)]`."""

    def admin(authorization: Annotated[str | None, Header()] = None) -> None:
        check_admin(authorization, admin_token)

    return Depends(admin)


def service_app(service: str, lifespan: Any) -> FastAPI:
    """A service's FastAPI app with the shared conventions and a `/health` route."""
    app = FastAPI(title=f"Chartflow {service}", version="0.1.0", lifespan=lifespan)
    install_http_conventions(app)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")  # the template, not ids
        HTTP_REQUESTS.inc(method=request.method, route=route, status=str(response.status_code))
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics(rt: RuntimeDep) -> PlainTextResponse:
        pending = await rt.db.run(pending_count)
        gauges = {"chartflow_outbox_pending": ("Outbox events not yet published.", lambda: pending)}
        return PlainTextResponse(render(gauges), media_type="text/plain; version=0.0.4")

    return app


def runtime(request: Request) -> Runtime:
    """The service's runtime (database, loops), set up by the app's lifespan."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


async def api_key_owner(
    rt: Runtime, api_key: str | None, find_by_hash: Callable[[Session, str], T | None]
) -> T:
    """The hospital or coder an `X-API-Key` belongs to; 401 when it is missing or unknown."""
    if not api_key:
        raise HTTPException(401, "X-API-Key header required")
    key_hash = hash_secret(api_key)
    owner = await rt.db.run(lambda s: find_by_hash(s, key_hash))
    if owner is None:
        raise HTTPException(401, "unknown API key")
    return owner
