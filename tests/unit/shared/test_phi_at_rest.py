"""PHI columns hold ciphertext on disk and plaintext in the application."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from services.intake.db import TABLES, Encounter
from shared import migrations
from shared.crypto import PhiKeyError, keyring_path, load_keyring, use_keyring, use_phi_key
from shared.db import Database

CHART = '{"patient": {"first_name": "Maria", "last_name": "Sample"}}'


def test_encounter_document_is_unreadable_on_disk_and_readable_through_the_model(
    tmp_path: Path,
) -> None:
    keys = load_keyring(None, None, tmp_path)  # generated on first use
    use_keyring(keys)
    db = Database(f"sqlite:///{tmp_path / 'intake.db'}", TABLES)
    migrations.upgrade(db, "intake")
    row = Encounter(
        hospital_id="h", external_id="E1", encounter_key="h:E1", encounter_class="professional",
        document=CHART,
    )  # fmt: skip
    db.run_sync(lambda s: s.add(row))

    on_disk = sqlite3.connect(tmp_path / "intake.db").execute("SELECT document FROM encounter")
    raw = on_disk.fetchone()[0]
    with db.session() as session:
        read = session.get(Encounter, row.id)

    assert "Maria" not in raw
    assert raw.startswith(keys.newest("storage") + ":")  # the key id travels with the data
    assert read is not None and read.document == CHART
    assert keyring_path(tmp_path).stat().st_mode & 0o777 == 0o600
    # The same keys on the next start.
    assert load_keyring(None, None, tmp_path).key_ids() == keys.key_ids()

    use_phi_key(Fernet.generate_key())  # a different key cannot read it
    with db.session() as session, pytest.raises(PhiKeyError):
        session.get(Encounter, row.id)
    db.close()
