"""Results pushed back: coded, returned and claim-status events from Kafka become signed webhook
deliveries, retried with backoff, in order per encounter, with every attempt visible."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.domain.webhooks import verify
from shared.events import topics
from shared.events.assignment import EncounterCoded, EncounterReturned
from shared.events.claims import ClaimStatusChanged
from shared.events.codes import DiagnosisCode
from shared.events.envelope import Envelope
from shared.events.intake import BillingProvider, EncounterDocument
from shared.kafka import Publisher
from tests.conftest import Stack
from tests.integration.intake_app import DEMO, hospital_key, settings, wait_for
from tests.webhook_receiver import Receiver, serve

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve()


@pytest.fixture
def intake(stack: Stack, namespace: str, tmp_path: Path) -> Iterator[TestClient]:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    config = settings(stack, namespace, tmp_path, webhook_retry_base_seconds=0.3)
    with TestClient(create_app(config, frozenset({"api", "consumer"}))) as client:
        yield client


def _coded(view: dict[str, Any], document: dict[str, Any]) -> EncounterCoded:
    billing = {k: DEMO["hospital"][k] for k in ("name", "npi", "tax_id", "address")}
    return EncounterCoded(
        encounter_key=view["encounter_key"],
        hospital_id=DEMO["hospital"]["id"],
        billing_provider=BillingProvider.model_validate(billing),
        encounter=EncounterDocument.model_validate(document),
        diagnoses=[DiagnosisCode(code="E11.9")],
        procedures=[],
        coder_id="c1",
    )


def _status(view: dict[str, Any], status: str) -> ClaimStatusChanged:
    return ClaimStatusChanged(
        encounter_key=view["encounter_key"],
        claim_id=f"claim-{view['external_id']}",
        patient_control_number="CF0000000000000001",
        claim_type="professional",
        status=status,
        total_charge=Decimal("330.00"),
        reason="test",
        paid=Decimal("280.50") if status == "paid" else None,
    )


async def _publish(stack: Stack, namespace: str, events: list[tuple[str, Any, Any]]) -> None:
    """Put events on the test's topics, keyed by encounter, as assignment and claims do."""
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    try:
        for topic, view, event in events:
            key = view["encounter_key"]
            envelope = Envelope.wrap(
                event, source="test", subject=key, tenant=DEMO["hospital"]["id"]
            )
            await publisher.send_raw(f"{namespace}{topic}", key, envelope.to_bytes())
    finally:
        await publisher.stop()


async def test_deliveries_are_signed_retried_and_in_order_per_encounter(
    intake: TestClient, receiver: Receiver, stack: Stack, namespace: str
) -> None:
    key = hospital_key(intake)
    documents = [DEMO["encounters"][0]["encounter"], DEMO["encounters"][1]["encounter"]]
    a, b = (intake.post("/v1/encounters", json=d, headers=key).json() for d in documents)
    hook = intake.post(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["encounter.coded", "claim.status"]},
        headers=key,
    ).json()
    # A's first event fails three times: A's later events must wait for it, B's must not.
    receiver.fail = lambda body, attempt: (
        body["data"]["encounter_id"] == a["id"]
        and body["type"] == "encounter.coded"
        and attempt < 4
    )
    pairs = ((a, documents[0]), (b, documents[1]))
    await _publish(stack, namespace, [(topics.ENCOUNTERS_CODED, v, _coded(v, d)) for v, d in pairs])
    # Claims reports on a claim only once it was coded: the statuses follow the coding.
    for view in (a, b):
        url = f"/v1/encounters/{view['id']}"
        wait_for(lambda url=url: intake.get(url, headers=key).json()["status"] == "coded")
    statuses = [
        (topics.CLAIMS_STATUS, v, _status(v, s)) for v, _ in pairs for s in ("built", "paid")
    ]
    await _publish(stack, namespace, statuses)

    wait_for(lambda: len(receiver.delivered()) == 6, timeout=60)

    def steps(encounter_id: str) -> list[tuple[str, int]]:
        return [
            (c.json["data"].get("claim_status", "coded"), c.status)
            for c in receiver.calls
            if c.json["data"]["encounter_id"] == encounter_id
        ]

    assert steps(a["id"]) == [
        ("coded", 500),
        ("coded", 500),
        ("coded", 500),
        ("coded", 200),
        ("built", 200),
        ("paid", 200),
    ]
    assert steps(b["id"]) == [("coded", 200), ("built", 200), ("paid", 200)]
    order = [(c.json["data"]["encounter_id"], c.status) for c in receiver.calls]
    assert order.index((b["id"], 200)) < order.index((a["id"], 200))  # B was not held up by A
    for call in receiver.calls:
        # As docs/intake.md tells a hospital to check it: HMAC-SHA256 over "<t>." + body.
        sent = dict(p.split("=", 1) for p in call.headers["Chartflow-Signature"].split(","))
        signed = f"{sent['t']}.".encode() + call.body
        expected = hmac.new(hook["secret"].encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(sent["v1"], expected)
        assert abs(time.time() - int(sent["t"])) < 120
        assert verify(hook["secret"], call.headers["Chartflow-Signature"], call.body)
        assert not verify("another-secret", call.headers["Chartflow-Signature"], call.body)
        assert call.headers["Chartflow-Event-Id"] == call.json["id"]
        assert set(call.json["data"]) <= {
            "encounter_id",
            "external_id",
            "status",
            "claim_id",
            "claim_status",
        }
        assert "Maria" not in call.body.decode() and "ACM100200301" not in call.body.decode()
    retried = [c for c in receiver.calls if c.json["data"]["encounter_id"] == a["id"]][:4]
    assert [c.headers["Chartflow-Delivery-Attempt"] for c in retried] == ["1", "2", "3", "4"]
    assert len({c.json["id"] for c in retried}) == 1  # the same delivery, tried three times

    deliveries = intake.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=key).json()
    a_coded = next(
        d
        for d in deliveries
        if d["encounter_id"] == a["id"] and d["event_type"] == "encounter.coded"
    )
    assert a_coded["status"] == "delivered"
    assert [x["status_code"] for x in a_coded["attempts"]] == [500, 500, 500, 200]
    a_built = next(
        d
        for d in deliveries
        if d["body"]["data"].get("claim_status") == "built" and d["encounter_id"] == a["id"]
    )
    assert a_built["created_at"] < a_coded["delivered_at"]  # it was queued, and waited
    assert all(d["status"] == "delivered" for d in deliveries) and len(deliveries) == 6


async def test_a_removed_webhook_gets_nothing_more(
    intake: TestClient, receiver: Receiver, stack: Stack, namespace: str
) -> None:
    key = hospital_key(intake)
    document = DEMO["encounters"][0]["encounter"]
    view = intake.post("/v1/encounters", json=document, headers=key).json()
    hook = intake.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["claim.status"]}, headers=key
    ).json()
    removed = intake.delete(f"/v1/webhooks/{hook['id']}", headers=key)
    await _publish(stack, namespace, [(topics.CLAIMS_STATUS, view, _status(view, "built"))])

    wait_for(
        lambda: intake.get(f"/v1/encounters/{view['id']}", headers=key).json()["claim"]["status"]
    )

    assert removed.status_code == 204
    assert intake.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=key).json() == []
    assert receiver.calls == []


async def test_a_returned_encounter_is_announced_with_its_reason_but_not_the_note(
    intake: TestClient, receiver: Receiver, stack: Stack, namespace: str
) -> None:
    key = hospital_key(intake)
    view = intake.post("/v1/encounters", json=DEMO["encounters"][0]["encounter"], headers=key)
    view = view.json()
    intake.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["encounter.returned"]}, headers=key
    ).raise_for_status()
    note = "Chart lists Qzreturnednote twice"  # the coder's words may quote the chart
    returned = EncounterReturned(
        encounter_key=view["encounter_key"], hospital_id=DEMO["hospital"]["id"], task_id="t1",
        reason="documentation_incomplete", note=note,
    )  # fmt: skip
    await _publish(stack, namespace, [(topics.ENCOUNTERS_RETURNED, view, returned)])

    [call] = wait_for(receiver.delivered, timeout=60)
    read = intake.get(f"/fhir/Encounter/{view['id']}", headers=key).json()

    assert call.json["type"] == "encounter.returned"
    assert call.json["data"] == {
        "encounter_id": view["id"], "external_id": view["external_id"], "status": "returned",
        "reason": "documentation_incomplete",
    }  # fmt: skip
    assert read["meta"]["tag"][0]["code"] == "returned"
    assert read["extension"][0]["valueCode"] == "documentation_incomplete"
    assert "Qzreturnednote" not in call.body.decode() + json.dumps(read)
