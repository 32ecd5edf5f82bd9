"""After a key rotation, one command moves every stored ciphertext to the newest keys."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlmodel import select

from services.intake.app import create_app
from services.intake.bulk_db import BulkChunk
from services.intake.db import TABLES, Encounter
from services.intake.settings import IntakeSettings
from shared.cli import serve
from shared.crypto import SCOPES, Keyring, format_keyring, parse_keyring, use_keyring
from shared.db import Database
from shared.events.access import PhiAccessed
from shared.events.envelope import Envelope
from shared.events.intake import EncounterReceived
from shared.migrations import upgrade
from shared.outbox import OutboxEvent
from tests.conftest import ADMIN_TOKEN
from tests.phi_markers import marked_encounter
from tests.unit.services.test_api_contracts import DEMO

OLD = format_keyring((scope, Fernet.generate_key()) for scope in SCOPES)


def _settings(var: Path, keys: str) -> IntakeSettings:
    return IntakeSettings(
        kafka_bootstrap_servers="127.0.0.1:1", chartflow_var=var, phi_key=keys, database_url=None,
        admin_token=ADMIN_TOKEN,
    )  # fmt: skip


def _stored(var: Path) -> list[str]:
    db = sqlite3.connect(var / "data" / "intake.db")
    rows = db.execute("SELECT document FROM encounter UNION ALL SELECT payload FROM outbox_event")
    return [value for (value,) in rows]


def test_rekey_moves_columns_and_outbox_envelopes_to_the_newest_keys_and_reports_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encounter, _ = marked_encounter(DEMO["encounters"][1]["encounter"])
    with TestClient(create_app(_settings(tmp_path, OLD), frozenset({"api"}))) as intake:
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        key = intake.post("/v1/admin/hospitals", json=DEMO["hospital"], headers=auth).json()
        pushed = intake.post(
            "/v1/encounters", json=encounter, headers={"X-API-Key": key["api_key"]}
        )
    assert pushed.status_code == 202
    new = format_keyring((scope, Fernet.generate_key()) for scope in SCOPES)
    rotated = new + OLD  # newest first
    newest = Keyring.of(parse_keyring(rotated))

    code = serve(_settings(tmp_path, rotated), create_app, ["rekey"], TABLES)

    said = capsys.readouterr().out
    assert code == 0
    assert "intake: done encounter.document: 1/1 rows (1 re-encrypted" in said
    assert "outbox_event.payload: 1/1 rows (1 re-encrypted" in said
    stored = _stored(tmp_path)
    assert all(value.startswith(newest.newest("storage") + ":") for value in stored)
    # The old keys can go now: everything opens with the new ones alone.
    use_keyring(Keyring.of(parse_keyring(new)))
    db = Database(f"sqlite:///{tmp_path / 'data' / 'intake.db'}", [*TABLES, OutboxEvent])
    with db.session() as session:
        document = session.exec(select(Encounter)).one()
        events = [
            Envelope.model_validate_json(e.payload) for e in session.exec(select(OutboxEvent))
        ]
    db.close()
    assert json.loads(document.document)["patient"] == encounter["patient"]
    received = next(e for e in events if e.type == EncounterReceived.event_type)
    assert received.data["encounter"]["patient"]["kid"] == newest.newest("identity")
    assert (
        received.payload(EncounterReceived).encounter.patient.first_name
        == (encounter["patient"]["first_name"])
    )
    [record] = [e.payload(PhiAccessed) for e in events if e.type == PhiAccessed.event_type]
    assert (record.action, record.role) == ("storage.rekey", "admin")

    assert serve(_settings(tmp_path, rotated), create_app, ["rekey"], TABLES) == 0
    again = capsys.readouterr().out
    assert "encounter.document: 1/1 rows (0 re-encrypted, 1 already under the newest key)" in again


def test_rows_of_a_table_keyed_by_two_columns_are_rekeyed_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bulk upload chunks are keyed by (job, seq): every one moves, batch after batch."""
    use_keyring(Keyring.of(parse_keyring(OLD)))
    (tmp_path / "data").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'data' / 'intake.db'}", TABLES)
    upgrade(db, "intake")
    chunks = [
        BulkChunk(job_id=job, seq=seq, first_line=1, line_count=1, body=f"line {job}/{seq}")
        for job in ("job-a", "job-b")
        for seq in range(3)
    ]
    db.run_sync(lambda s: s.add_all(chunks))
    db.close()
    rotated = format_keyring((scope, Fernet.generate_key()) for scope in SCOPES) + OLD
    monkeypatch.setattr("shared.rekey.BATCH", 2)  # pages end inside a job and across jobs

    code = serve(_settings(tmp_path, rotated), create_app, ["rekey"], TABLES)

    newest = Keyring.of(parse_keyring(rotated)).newest("storage")
    bodies = sqlite3.connect(tmp_path / "data" / "intake.db").execute("SELECT body FROM bulk_chunk")
    assert code == 0
    assert [b.split(":")[0] for (b,) in bodies] == [newest] * 6
