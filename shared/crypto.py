"""PHI encrypted at rest: a column type that stores Fernet tokens (AES-128-CBC + HMAC-SHA256).

Each service process loads one key at start (`use_phi_key`): the `PHI_KEY` setting in
production; for a laptop, a key generated once into `var/phi.key` (mode 0600).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

_cipher: Fernet | None = None


class PhiKeyError(RuntimeError):
    pass


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, created with owner-only permissions when it does not exist yet."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def use_phi_key(key: bytes | str) -> None:
    global _cipher
    _cipher = Fernet(key)


def _active() -> Fernet:
    if _cipher is None:
        raise PhiKeyError("no PHI key loaded: call use_phi_key() at service start")
    return _cipher


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted; reads give the plaintext back."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return _active().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        try:
            return _active().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise PhiKeyError("stored PHI does not decrypt with the loaded PHI key") from exc
