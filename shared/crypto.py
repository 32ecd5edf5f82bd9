"""PHI encryption: a keyring of Fernet keys (AES-128-CBC + HMAC-SHA256) per scope, with key ids.

A *scope* says who may read: `storage` encrypts database columns (`EncryptedText`),
`identity` the demographics in events (names, birth dates, addresses, member ids) and
`clinical` the rest of the chart in events (notes, dates of service, charges, amounts). A
service loads only the scopes it is entitled to (coding: no `identity`).

Each scope may hold several keys, newest first: the newest encrypts, every one decrypts
(rotation, as `MultiFernet`). A key's id is `<scope>.<fingerprint>`; ciphertexts carry it
(`kid:token` in a column, `{"kid", "ct"}` in an event), so the right key is found directly and
re-encryption knows what is not yet under the newest key.

Where the keys come from (`load_keyring`): the file named by `PHI_KEY_FILE`, else the
`PHI_KEY` environment variable (keyring text, or one bare key used for every scope), else a
keyring generated once into `<var>/secrets/phi-keys` (mode 0600) for a laptop. Keyring text is
one `<scope> <fernet key>` per line, newest first within a scope; `#` starts a comment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

STORAGE, IDENTITY, CLINICAL = "storage", "identity", "clinical"
SCOPES = (STORAGE, IDENTITY, CLINICAL)
FERNET_KEY_BYTES = 32


class PhiKeyError(RuntimeError):
    """A key is missing, malformed or does not open a ciphertext."""


def key_id(scope: str, key: bytes) -> str:
    return f"{scope}.{hashlib.sha256(key).hexdigest()[:10]}"


def _fernet(scope: str, key: bytes) -> Fernet:
    try:
        raw = base64.urlsafe_b64decode(key)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != FERNET_KEY_BYTES:
        # Shorter keys are refused: a service does not start on a weak or truncated key.
        raise PhiKeyError(
            f"a {scope} PHI key must be {FERNET_KEY_BYTES} bytes of url-safe base64 "
            "(as Fernet.generate_key() makes)"
        )
    return Fernet(key)


@dataclass
class Keyring:
    """Keys per scope, newest first; encrypts with the newest, decrypts by key id."""

    keys: dict[str, list[tuple[str, Fernet]]] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[tuple[str, bytes]]) -> Keyring:
        ring = cls()
        for scope, key in entries:
            if scope not in SCOPES:
                raise PhiKeyError(f"unknown PHI key scope {scope!r} (one of {', '.join(SCOPES)})")
            kid = key_id(scope, key)
            if all(kid != have for have, _ in ring.keys.get(scope, [])):
                ring.keys.setdefault(scope, []).append((kid, _fernet(scope, key)))
        return ring

    def only(self, scopes: Iterable[str]) -> Keyring:
        """The keys of the scopes a service is entitled to; each must have at least one."""
        wanted = list(scopes)
        missing = [s for s in wanted if not self.keys.get(s)]
        if missing:
            raise PhiKeyError(f"no PHI key for scope(s) {', '.join(missing)}")
        return Keyring({s: list(self.keys[s]) for s in wanted})

    def newest(self, scope: str) -> str:
        return self._scope(scope)[0][0]

    def key_ids(self) -> dict[str, list[str]]:
        return {scope: [kid for kid, _ in keys] for scope, keys in self.keys.items()}

    def encrypt(self, scope: str, plaintext: bytes) -> tuple[str, str]:
        kid, fernet = self._scope(scope)[0]
        return kid, fernet.encrypt(plaintext).decode()

    def decrypt(self, kid: str | None, token: str, scope: str = STORAGE) -> bytes:
        """Open `token` with key `kid`; without one (older data), with every key of `scope`."""
        if kid is None:
            fernets = [fernet for _, fernet in self._scope(scope)]
        else:
            fernets = [f for k, f in self._scope(kid.split(".")[0]) if k == kid]
            if not fernets:
                raise PhiKeyError(f"no PHI key {kid} loaded (retired, or not entitled)")
        try:
            return MultiFernet(fernets).decrypt(token.encode())
        except InvalidToken:
            raise PhiKeyError(f"PHI ciphertext does not open with the {scope} keys") from None

    def _scope(self, scope: str) -> list[tuple[str, Fernet]]:
        keys = self.keys.get(scope)
        if not keys:
            raise PhiKeyError(f"no PHI key for scope {scope} loaded")
        return keys


_keyring: Keyring | None = None


def use_keyring(keyring: Keyring) -> None:
    """Make `keyring` the process's keys (each service at start)."""
    global _keyring
    _keyring = keyring


def use_phi_key(key: bytes | str) -> None:
    """One key for every scope (tests, and `PHI_KEY` holding a single key)."""
    raw = key.encode() if isinstance(key, str) else key
    use_keyring(Keyring.of((scope, raw) for scope in SCOPES))


def keyring() -> Keyring:
    if _keyring is None:
        raise PhiKeyError("no PHI keys loaded: call use_keyring() at service start")
    return _keyring


def parse_keyring(text: str) -> list[tuple[str, bytes]]:
    """`<scope> <key>` lines (or `;`-separated), newest first; a bare key serves every scope."""
    entries: list[tuple[str, bytes]] = []
    for raw in text.replace(";", "\n").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) == 1:
            entries += [(scope, parts[0].encode()) for scope in SCOPES]
        elif len(parts) == 2:
            entries.append((parts[0], parts[1].encode()))
        else:
            raise PhiKeyError("a PHI keyring line is `<scope> <key>`")
    if not entries:
        raise PhiKeyError("the PHI keyring is empty")
    return entries


def format_keyring(entries: Iterable[tuple[str, bytes]]) -> str:
    lines = ["# Chartflow PHI keys: <scope> <fernet key>, newest first within a scope."]
    lines += [f"{scope} {key.decode()}" for scope, key in entries]
    return "\n".join(lines) + "\n"


def write_private(path: Path, content: str) -> bool:
    """Create `path` (mode 0600, its folder 0700) with `content`; False if it already exists.

    Written aside and linked into place, so a concurrent reader never sees a partial file.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(content)
    try:
        os.link(staging, path)
        return True
    except FileExistsError:
        return False
    finally:
        staging.unlink()


def keyring_path(var: Path) -> Path:
    return var / "secrets" / "phi-keys"


def load_or_create_keyring_file(path: Path, legacy_key: Path | None = None) -> str:
    """The keyring in `path`, generated on first use (one key per scope).

    A key from an older build (`var/phi.key`) becomes every scope's key, so its data still opens.
    """
    if not path.exists():
        if legacy_key is not None and legacy_key.exists():
            old = legacy_key.read_bytes().strip()
            entries = [(scope, old) for scope in SCOPES]
        else:
            entries = [(scope, Fernet.generate_key()) for scope in SCOPES]
        write_private(path, format_keyring(entries))
    return path.read_text()


def load_keyring(
    key_file: Path | None, key_text: str | None, var: Path, scopes: Iterable[str] = SCOPES
) -> Keyring:
    """The keys a service is entitled to, from a file, the environment or `<var>/secrets`."""
    if key_file is not None:
        if not key_file.exists():
            raise PhiKeyError(f"PHI_KEY_FILE {key_file} does not exist")
        text = key_file.read_text()
    elif key_text:
        text = key_text
    else:
        text = load_or_create_keyring_file(keyring_path(var), legacy_key=var / "phi.key")
    return Keyring.of(parse_keyring(text)).only(scopes)


def seal(scope: str, value: Any, dump: Any) -> dict[str, str]:
    """`value` (JSON-able, serialised by `dump`) encrypted under the newest key of `scope`."""
    kid, token = keyring().encrypt(scope, dump(value).encode())
    return {"kid": kid, "ct": token}


def is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"kid", "ct"}


def open_sealed(value: Mapping[str, str]) -> bytes:
    kid = value["kid"]
    return keyring().decrypt(kid, value["ct"], kid.split(".")[0])


def encrypt_column(plaintext: str) -> str:
    kid, token = keyring().encrypt(STORAGE, plaintext.encode())
    return f"{kid}:{token}"


def decrypt_column(stored: str) -> str:
    # Fernet tokens are url-safe base64, so a colon can only separate a key id.
    kid, sep, token = stored.rpartition(":")
    return keyring().decrypt(kid if sep else None, token, STORAGE).decode()


def column_kid(stored: str) -> str | None:
    kid, sep, _ = stored.rpartition(":")
    return kid if sep else None


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted as `kid:token`; reads give the plaintext back."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else encrypt_column(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else decrypt_column(value)
