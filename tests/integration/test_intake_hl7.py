"""HL7 v2 over a real TCP socket (MLLP): several messages make one encounter, each gets an ACK."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient

from services.intake.app import create_app
from shared.events.envelope import Envelope
from shared.events.intake import EncounterReceived
from tests import hl7_messages as hl7
from tests.conftest import Stack
from tests.integration.intake_app import free_port, hospital_key, settings, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
FEED = {"hl7": {"sending_facilities": [hl7.FACILITY]}}


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def intake(stack: Stack, namespace: str, tmp_path: Path, port: int) -> Iterator[TestClient]:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    config = settings(stack, namespace, tmp_path, hl7_port=port, hl7_release_poll_seconds=0.2)
    with TestClient(create_app(config, frozenset({"api", "consumer"}))) as client:
        yield client


async def _received(stack: Stack, topic: str, seconds: float = 3) -> list[EncounterReceived]:
    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=stack.kafka, auto_offset_reset="earliest", **stack.kafka_auth()
    )
    await reader.start()
    found: list[EncounterReceived] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for batch in (await reader.getmany(timeout_ms=300)).values():
                found += [
                    Envelope.from_bytes(m.value or b"").payload(EncounterReceived) for m in batch
                ]
    finally:
        await reader.stop()
    return found


async def test_discharge_charges_and_note_make_one_encounter_with_three_acks(
    intake: TestClient, port: int, stack: Stack, namespace: str
) -> None:
    key = hospital_key(intake, **FEED)

    acks = await asyncio.to_thread(
        hl7.converse,
        port,
        hl7.discharge("M1", "V100"),
        hl7.charges("M2", "V100"),
        hl7.note("M3", "V100"),
    )

    assert [hl7.fields(a, "MSA")[0][1:3] for a in acks] == [
        ["AA", "M1"],
        ["AA", "M2"],
        ["AA", "M3"],
    ]
    assert all(not hl7.fields(a, "ERR") for a in acks)
    stored = intake.get("/v1/encounters", headers=key).json()
    assert [(e["external_id"], e["encounter_class"]) for e in stored] == [("V100", "inpatient")]
    # The relay put exactly one encounter on Kafka: the visit's stay, charges and note.
    events = await _received(stack, f"{namespace}encounters.received")
    assert len(events) == 1
    document = events[0].encounter
    assert document.admission is not None and document.admission.discharge_status == "01"
    assert (document.service_date.isoformat(), str(document.discharge_date)) == (
        "2026-09-10",
        "2026-09-13",
    )
    assert [(c.revenue_code, str(c.charge), c.units) for c in document.charges] == [
        ("0120", "4500.00", 3),
        ("0250", "780.00", 1),
    ]
    texts = [d.text for d in document.documents]
    assert texts[0] == "Admitted with pneumonia.\nBronchoscopy performed."
    assert "J18.9" in texts[1]  # DG1, kept as documentation for the coder
    assert document.coverage.payer_id == "ACMEHLTH" and document.providers[0].npi == "1444444446"


async def test_malformed_unknown_and_late_messages_get_ar_or_ae_naming_the_field(
    intake: TestClient, port: int
) -> None:
    key = hospital_key(intake, **FEED)
    no_visit = hl7.discharge("M5", "").replace("^^^MERCY^VN", "")
    unknown_facility = hl7.message("ADT^A03", "M6", "V9", facility="ELSEWHERE")
    wrong_type = hl7.message("ORU^R01", "M7", "V9")

    acks = await asyncio.to_thread(
        hl7.converse, port,
        "MSH|^~\\&|EPIC\rnot an HL7 segment",
        "PID|1||no header",
        no_visit, unknown_facility, wrong_type,
        hl7.discharge("M8", "V200"), hl7.note("M9", "V200"), hl7.charges("M10", "V200"),
        hl7.note("M9", "V200"),
    )  # fmt: skip

    codes = [hl7.fields(a, "MSA")[0][1] for a in acks]
    assert codes == ["AR", "AR", "AE", "AR", "AR", "AA", "AA", "AE", "AA"]
    errors = [[e[2] + "|" + e[3].split("^")[0] for e in hl7.fields(a, "ERR")] for a in acks]
    assert errors[0] == ["MSH^1^10|101"]  # no control id: nothing to acknowledge it by
    assert errors[1] == ["MSH^1|100"]
    assert errors[2] == ["PV1^1^19|101"]
    assert errors[3] == ["MSH^1^4|204"]
    assert errors[4] == ["MSH^1^9|200"]
    assert errors[7] == ["PV1^1^19|206"]  # charges after the visit went to coding
    assert acks[8] == acks[6]  # a resent control id gets its first ACK again
    stored = intake.get("/v1/encounters", headers=key).json()
    assert [e["external_id"] for e in stored] == ["V200"]


async def test_a_quiet_period_hospital_waits_for_late_charges(
    intake: TestClient, port: int
) -> None:
    key = hospital_key(intake, hl7={**FEED["hl7"], "release": "quiet_period", "quiet_seconds": 1})

    acks = await asyncio.to_thread(
        hl7.converse, port, hl7.discharge("Q1", "V300"), hl7.note("Q2", "V300")
    )
    waiting = intake.get("/v1/encounters", headers=key).json()
    late = await asyncio.to_thread(hl7.converse, port, hl7.charges("Q3", "V300"))
    released = wait_for(lambda: intake.get("/v1/encounters", headers=key).json(), timeout=15)

    assert [hl7.fields(a, "MSA")[0][1] for a in [*acks, *late]] == ["AA", "AA", "AA"]
    assert waiting == []
    assert [e["external_id"] for e in released] == ["V300"]
