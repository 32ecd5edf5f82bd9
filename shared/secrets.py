"""The admin token: given by the deployment, or generated once per `var/`; never a default.

The first service to start on a `var/` writes `<var>/secrets/admin-token` (mode 0600); the
others read the same file. A token shorter than `MIN_TOKEN_CHARS`, or one of the defaults
older builds shipped, stops the service at start.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from shared.crypto import write_private

MIN_TOKEN_CHARS = 32
#: Tokens that were ever defaults or examples: anyone could guess them.
KNOWN_DEFAULTS = frozenset({"local-admin-token", "e2e-admin-token", "test-admin", "changeme"})


class SecretError(RuntimeError):
    """A secret is too weak or a known default: the service refuses to start."""


def admin_token_path(var: Path) -> Path:
    return var / "secrets" / "admin-token"


def check_admin_token(token: str) -> str:
    if token in KNOWN_DEFAULTS:
        raise SecretError("ADMIN_TOKEN is a well-known default; set a random one or unset it")
    if len(token) < MIN_TOKEN_CHARS:
        raise SecretError(f"ADMIN_TOKEN must be at least {MIN_TOKEN_CHARS} characters")
    return token


def resolve_admin_token(configured: str | None, var: Path) -> str:
    """The configured token, or the one generated into `<var>/secrets/admin-token`; checked."""
    if configured is not None:
        return check_admin_token(configured)
    path = admin_token_path(var)
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32) + "\n")
    return check_admin_token(path.read_text().strip())
