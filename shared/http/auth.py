"""Credentials: the admin bearer token and hashed API keys of hospitals and coders."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from shared.service import Runtime

T = TypeVar("T")


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_admin(authorization: str | None, admin_token: str) -> None:
    expected = f"Bearer {admin_token}".encode()
    if not authorization or not hmac.compare_digest(authorization.encode(), expected):
        raise HTTPException(401, "admin token required", headers={"WWW-Authenticate": "Bearer"})


#: Documents the admin scheme in the OpenAPI (`securitySchemes`); the check is `check_admin`.
ADMIN_BEARER = HTTPBearer(
    scheme_name="AdminBearer", description="The admin token", auto_error=False
)


def api_key_scheme(scheme_name: str, description: str) -> APIKeyHeader:
    """An `X-API-Key` header scheme, documented in the OpenAPI under `scheme_name`."""
    return APIKeyHeader(
        name="X-API-Key", scheme_name=scheme_name, description=description, auto_error=False
    )


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(ADMIN_BEARER)] = None,
) -> None:
    """The admin bearer token of the service's settings, or 401."""
    authorization = f"Bearer {credentials.credentials}" if credentials else None
    check_admin(authorization, request.app.state.settings.admin_token)


#: For routes only admins may call: `@router.get(..., dependencies=[AdminOnly])`.
AdminOnly: Any = Depends(require_admin)


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
