"""HTTP conventions every service's API shares: problem+json errors, body limits, credentials."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from shared.service import Runtime

T = TypeVar("T")
PROBLEM = "application/problem+json"
MAX_BODY_BYTES = 2_000_000


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


class BodySizeLimit(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return problem(413, "Request body too large", f"limit is {MAX_BODY_BYTES} bytes")
        return await call_next(request)


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

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, "Request failed", str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_admin(authorization: str | None, admin_token: str) -> None:
    expected = f"Bearer {admin_token}"
    if not authorization or not hmac.compare_digest(authorization, expected):
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
