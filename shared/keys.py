"""`python -m shared.keys list|rotate`: the PHI keyring's key ids, and key rotation.

`rotate` puts a new key at the head of each scope (or of `--scope`) in the keyring file
(`PHI_KEY_FILE`, or the laptop's `<var>/secrets/phi-keys`); older keys stay, so everything
encrypted under them still opens. Then restart the services (they encrypt with the newest key
from their start on) and run `python -m services.NAME rekey` for each service (`make rekey`).
Retire an old key by deleting its line only once nothing uses it any more: no database row
(after `rekey`) and no event on a topic (after the topics' retention).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from shared.crypto import (
    SCOPES,
    Keyring,
    format_keyring,
    key_id,
    keyring_path,
    load_or_create_keyring_file,
    parse_keyring,
)
from shared.settings import ChartflowSettings


def keyring_file(settings: ChartflowSettings) -> Path:
    if settings.phi_key_file is not None:
        return settings.phi_key_file
    if settings.phi_key:
        raise SystemExit("keys: PHI_KEY comes from the environment; rotate it where it is set")
    path = keyring_path(settings.chartflow_var)
    load_or_create_keyring_file(path, legacy_key=settings.chartflow_var / "phi.key")
    return path


def rotate(path: Path, scopes: list[str]) -> list[str]:
    """Prepend a new key to each of `scopes` in the keyring file; the new key ids."""
    entries = parse_keyring(path.read_text())
    fresh = [(scope, Fernet.generate_key()) for scope in scopes]
    Keyring.of(fresh + entries)  # refuses a malformed keyring before anything is written
    staging = path.with_name(f".{path.name}.rotating")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(format_keyring(fresh + entries))
    staging.replace(path)
    return [key_id(scope, key) for scope, key in fresh]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.keys", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="key ids per scope, newest first (never the keys)")
    p_rotate = sub.add_parser("rotate", help="a new newest key per scope")
    p_rotate.add_argument("--scope", action="append", choices=SCOPES)
    args = parser.parse_args(argv)
    settings = ChartflowSettings()
    path = keyring_file(settings)
    if args.command == "rotate":
        for kid in rotate(path, args.scope or list(SCOPES)):
            print(f"new key {kid} (now the newest of its scope) in {path}")
        print("next: restart the services, then re-encrypt stored data: make rekey")
        return 0
    for scope, kids in Keyring.of(parse_keyring(path.read_text())).key_ids().items():
        print(f"{scope}: {', '.join(kids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
