"""PHI tooling against the real broker and PostgreSQL: reading a dead letter is an access record;
the access log refuses changes; re-encryption works on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from services.intake.db import TABLES, Encounter
from services.intake.settings import IntakeSettings
from shared import migrations
from shared.crypto import SCOPES, Keyring, format_keyring, parse_keyring, use_keyring
from shared.db import Database
from shared.dlq_show import show
from shared.events.access import PhiAccessed
from shared.events.envelope import Envelope
from shared.events.intake import BillingProvider, EncounterDocument, EncounterReceived
from shared.rekey import rekey_database
from tests.conftest import Stack
from tests.phi_markers import Search, marked_encounter

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())


def _received(encounter: dict[str, object]) -> Envelope:
    billing = {k: DEMO["hospital"][k] for k in ("name", "npi", "tax_id", "address")}
    event = EncounterReceived(
        encounter_key=f"mercy:{encounter['external_id']}",
        hospital_id="mercy",
        billing_provider=BillingProvider.model_validate(billing),
        encounter=EncounterDocument.model_validate(encounter),
    )
    return Envelope.wrap(event, source="test", subject=event.encounter_key, tenant="mercy")


@pytest.mark.kafka
async def test_reading_a_dead_letter_opens_its_phi_only_after_recording_the_read(
    stack: Stack, namespace: str, tmp_path: Path
) -> None:
    settings = IntakeSettings(
        **stack.kafka_settings(), chartflow_namespace_prefix=namespace,
        chartflow_var=tmp_path,
    )  # fmt: skip
    use_keyring(settings.phi_keyring())
    encounter, markers = marked_encounter(DEMO["encounters"][1]["encounter"])
    envelope = _received(encounter)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, **stack.kafka_auth())
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            f"{namespace}encounters.received.dlq", envelope.to_bytes(), partition=0
        )
    finally:
        await producer.stop()

    shown = await show(settings, "encounters.received", 0, sent.offset, actor="ops-jane")

    assert not Search(markers).hits(envelope.to_bytes())  # what the DLQ holds
    patient = shown.data["encounter"]["patient"]
    assert patient["last_name"] == markers["patient.last_name"]  # what the operator sees
    [record] = await _read(stack, f"{namespace}access.log")
    accessed = record.payload(PhiAccessed)
    assert (accessed.actor, accessed.action, accessed.tenant) == ("ops-jane", "dlq.read", "mercy")
    assert accessed.encounter_key == envelope.subject
    assert not Search(markers).hits(record.to_bytes())


async def _read(stack: Stack, topic: str) -> list[Envelope]:
    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=stack.kafka, auto_offset_reset="earliest", **stack.kafka_auth()
    )
    await reader.start()
    try:
        async with asyncio.timeout(30):
            while not (batches := await reader.getmany(timeout_ms=500)):
                pass
        return [Envelope.from_bytes(m.value or b"") for ms in batches.values() for m in ms]
    finally:
        await reader.stop()


@pytest.mark.postgres
def test_on_postgresql_the_access_log_refuses_changes_and_rekey_renews_every_row(
    stack: Stack, unique: str, tmp_path: Path
) -> None:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    old = format_keyring((scope, Fernet.generate_key()) for scope in SCOPES)
    settings = IntakeSettings(
        database_url=stack.database_url, chartflow_namespace_prefix=unique,
        chartflow_var=tmp_path, phi_key=old,
    )  # fmt: skip
    use_keyring(settings.phi_keyring())
    db = Database(settings.service_database_url(), TABLES)
    migrations.upgrade(db, "intake")
    row = Encounter(
        hospital_id="h", external_id="E1", encounter_key="h:E1", encounter_class="professional",
        document='{"patient": "Qzsecretname"}',
    )  # fmt: skip
    db.run_sync(lambda s: s.add(row))
    db.run_sync(
        lambda s: s.execute(
            text(
                "INSERT INTO access_record (event_id, at, actor, role, action, route, service) "
                "VALUES ('e1', now(), 'a', 'admin', 'x', 'r', 's')"
            )
        )
    )
    for change in (
        "UPDATE access_record SET actor = 'b'",
        "DELETE FROM access_record",
        "TRUNCATE access_record",
    ):
        with db.session() as session, pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(change))

    new = format_keyring((scope, Fernet.generate_key()) for scope in SCOPES)
    use_keyring(Keyring.of(parse_keyring(new + old)))
    lines: list[str] = []
    rekey_database(settings, TABLES, report=lines.append)

    use_keyring(Keyring.of(parse_keyring(new)))  # the old keys are gone
    with db.session() as session:
        stored = session.execute(text("SELECT document FROM encounter")).scalar_one()
        renewed = session.get(Encounter, row.id)
    db.close()
    assert stored.startswith(Keyring.of(parse_keyring(new)).newest("storage") + ":")
    assert renewed is not None and renewed.document == '{"patient": "Qzsecretname"}'
    assert any("encounter.document: 1/1 rows (1 re-encrypted" in line for line in lines)
