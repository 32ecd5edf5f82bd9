"""Kafka refuses who it does not know and what a service does not own (SASL/SCRAM + ACLs).

Against the session's real broker (deploy/local: SASL_PLAINTEXT, StandardAuthorizer), in a
namespace provisioned like the default one (`shared.kafka_access`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.events import topics
from shared.events.claims import ClaimStatusChanged
from shared.events.envelope import Envelope
from shared.kafka import Publisher
from tests.conftest import Stack

pytestmark = pytest.mark.kafka

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())
ADMIN_TOKEN = "kafka-security-test-admin-token-0123456789"

# What each service may write and read, as DESIGN says it (not derived from the code under test):
# a service writes the topics it owns and the DLQs of what it consumes; it reads what it
# consumes and those DLQs (their depth is one of its metrics).
WRITES = {
    "intake": {
        "encounters.received",
        "physician.answers",
        "encounters.coded.dlq",
        "claims.status.dlq",
        "encounters.returned.dlq",
        "physician.queries.dlq",
        "assignment.events.dlq",
        "coding.scorecards.dlq",
    },
    "assignment": {
        "coding.tasks",
        "encounters.coded",
        "encounters.returned",
        "assignment.events",
        "encounters.received.dlq",
        "coding.events.dlq",
        "physician.queries.dlq",
        "physician.answers.dlq",
        "claims.status.dlq",
    },
    "coding": {
        "coding.events",
        "physician.queries",
        "coding.scorecards",
        "coding.tasks.dlq",
        "physician.answers.dlq",
    },
    "claims": {"claims.status", "encounters.coded.dlq"},
}
READS = {
    "intake": {"encounters.coded", "claims.status", "encounters.returned", "physician.queries",
               "assignment.events", "coding.scorecards", "encounters.coded.dlq",
               "claims.status.dlq", "encounters.returned.dlq", "physician.queries.dlq",
               "assignment.events.dlq", "coding.scorecards.dlq"},
    "assignment": {"encounters.received", "coding.events", "physician.queries",
                   "physician.answers", "claims.status", "encounters.received.dlq",
                   "coding.events.dlq", "physician.queries.dlq", "physician.answers.dlq",
                   "claims.status.dlq"},
    "coding": {"coding.tasks", "physician.answers", "coding.tasks.dlq", "physician.answers.dlq"},
    "claims": {"encounters.coded", "encounters.coded.dlq"},
}  # fmt: skip
TOPICS = (
    "encounters.received",
    "coding.tasks",
    "coding.events",
    "encounters.coded",
    "encounters.returned",
    "physician.queries",
    "physician.answers",
    "assignment.events",
    "coding.scorecards",
)
ALL_TOPICS = sorted(t for topic in (*TOPICS, "claims.status") for t in (topic, f"{topic}.dlq"))

T = TypeVar("T")


@pytest.fixture
def secured(stack: Stack) -> Iterator[None]:
    if stack.kafka_credentials is None:
        pytest.skip("this broker has no SASL or ACLs (testcontainers); deploy/local has")
    yield


def _forged_payment(encounter_key: str) -> Envelope:
    """The forgery from issue 8: the hospital would see `claim_paid` with 999999.99."""
    forged = ClaimStatusChanged(
        encounter_key=encounter_key,
        claim_id="forged-claim",
        patient_control_number="FORGED",
        claim_type="837P",
        status="paid",
        total_charge=Decimal("999999.99"),
        reason="forged",
        paid=Decimal("999999.99"),
    )
    return Envelope.wrap(forged, source="claims", subject=encounter_key, tenant="mercy-general")


async def test_a_client_without_credentials_cannot_write_any_topic(
    stack: Stack, namespace: str, secured: None
) -> None:
    anonymous = AIOKafkaProducer(bootstrap_servers=stack.kafka, request_timeout_ms=5000)
    wrong_password = AIOKafkaProducer(
        bootstrap_servers=stack.kafka,
        request_timeout_ms=5000,
        **{**stack.kafka_auth("claims"), "sasl_plain_password": "a-guess"},
    )
    for producer in (anonymous, wrong_password):
        # The broker closes the connection before any request but ApiVersions / SASL.
        with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
            await producer.start()
        await producer.stop()

    assert await _messages_per_topic(stack, namespace) == dict.fromkeys(ALL_TOPICS, 0)


async def test_the_forged_payment_is_refused_and_the_hospital_never_sees_it(
    stack: Stack, namespace: str, secured: None, tmp_path: Path
) -> None:
    settings = IntakeSettings(
        **stack.kafka_settings("intake"),
        database_url=stack.database_url,
        chartflow_namespace_prefix=namespace,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
    )
    claims_status = settings.topic(topics.CLAIMS_STATUS)
    with TestClient(create_app(settings, frozenset({"api", "consumer"}))) as intake:
        hospital = intake.post(
            "/v1/admin/hospitals",
            json=DEMO["hospital"],
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ).json()
        key_header = {"X-API-Key": hospital["api_key"]}
        pushed = intake.post(
            "/v1/encounters", json=DEMO["encounters"][0]["encounter"], headers=key_header
        ).json()
        forged = _forged_payment(pushed["encounter_key"])

        anonymous = Publisher(stack.kafka)
        with pytest.raises(KafkaConnectionError):
            await anonymous.start()
        await anonymous.stop()
        as_intake = Publisher(stack.kafka, **stack.kafka_auth("intake"))
        await as_intake.start()
        try:
            with pytest.raises(TopicAuthorizationFailedError, match=claims_status):
                await as_intake.publish(claims_status, forged)
        finally:
            await as_intake.stop()

        # The owner's event on the same key (same partition, after the forgeries) arrives:
        # the consumer was listening, so a forgery that got through would have shown.
        genuine = forged.payload(ClaimStatusChanged).model_copy(
            update={"status": "submitted", "reason": "sent to the payer", "paid": None}
        )
        as_claims = Publisher(stack.kafka, **stack.kafka_auth("claims"))
        await as_claims.start()
        try:
            await as_claims.publish(
                claims_status,
                Envelope.wrap(
                    genuine, source="claims", subject=forged.subject, tenant=forged.tenant
                ),
            )
        finally:
            await as_claims.stop()
        view = _wait_for(
            lambda: intake.get(f"/v1/encounters/{pushed['id']}", headers=key_header).json(),
            lambda v: v["claim"]["status"] is not None,
        )

    assert view["status"] == "claim_submitted"
    assert view["claim"]["paid"] is None
    assert [step["status"] for step in view["claim"]["history"]] == ["submitted"]


async def test_each_service_writes_only_its_own_topics_and_the_dlqs_of_what_it_consumes(
    stack: Stack, namespace: str, secured: None
) -> None:
    allowed: dict[str, set[str]] = {}
    for service in WRITES:
        publisher = Publisher(stack.kafka, **stack.kafka_auth(service))
        await publisher.start()
        allowed[service] = set()
        try:
            for topic in ALL_TOPICS:
                try:
                    await publisher.send_raw(f"{namespace}{topic}", "probe", b"probe")
                    allowed[service].add(topic)
                except TopicAuthorizationFailedError:
                    pass
        finally:
            await publisher.stop()

    assert allowed == WRITES
    # Nothing of a refused write landed: each topic holds one probe per allowed writer.
    expected = {t: sum(t in w for w in WRITES.values()) for t in ALL_TOPICS}
    assert await _messages_per_topic(stack, namespace) == expected


async def test_intake_cannot_write_claims_status_with_its_own_credentials(
    stack: Stack, namespace: str, secured: None
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka, enable_idempotence=True, **stack.kafka_auth("intake")
    )
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError) as refused:
            await producer.send_and_wait(f"{namespace}claims.status", b"{}", key=b"k")
    finally:
        await producer.stop()
    assert f"{namespace}claims.status" in str(refused.value)


async def test_each_service_reads_only_the_topics_it_consumes(
    stack: Stack, namespace: str, secured: None
) -> None:
    seeder = Publisher(stack.kafka, **stack.kafka_auth())
    await seeder.start()
    try:
        for topic in ALL_TOPICS:
            await seeder.send_raw(f"{namespace}{topic}", "seed", b"seed")
    finally:
        await seeder.stop()

    readable = {
        service: {t for t in ALL_TOPICS if await _reads(stack, service, f"{namespace}{t}")}
        for service in READS
    }

    assert readable == READS


async def _reads(stack: Stack, service: str, topic: str) -> bool:
    """Whether `service` gets the topic's message in its own consumer group, or is refused."""
    namespace = topic[: topic.index(".") + 1]
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka,
        group_id=f"{namespace}{service}.{topic.removeprefix(namespace)}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **stack.kafka_auth(service),
    )
    try:
        # No Describe right: refused at start; Describe (from Write) but no Read: at the fetch.
        await consumer.start()
        async with asyncio.timeout(20):
            while not await consumer.getmany(timeout_ms=500):
                pass
        return True
    except TopicAuthorizationFailedError:
        return False
    finally:
        await consumer.stop()


async def test_coding_cannot_read_the_charts_on_encounters_received(
    stack: Stack, namespace: str, secured: None
) -> None:
    topic = f"{namespace}encounters.received"
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka,
        group_id=f"{namespace}coding.{topics.ENCOUNTERS_RECEIVED}",
        auto_offset_reset="earliest",
        **stack.kafka_auth("coding"),
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError, match=topic):
            await consumer.start()
    finally:
        await consumer.stop()


async def test_a_service_cannot_join_another_services_consumer_group(
    stack: Stack, namespace: str, secured: None
) -> None:
    # coding may read coding.tasks, but not as intake's group (it would steal its offsets).
    group = f"{namespace}intake.{topics.CODING_TASKS}"
    consumer = AIOKafkaConsumer(
        f"{namespace}coding.tasks",
        bootstrap_servers=stack.kafka,
        group_id=group,
        **stack.kafka_auth("coding"),
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError, match=group):
            await consumer.start()
            await consumer.getmany(timeout_ms=2000)
    finally:
        await consumer.stop()


async def _messages_per_topic(stack: Stack, namespace: str) -> dict[str, int]:
    """How many messages each topic of the namespace holds (read as the admin)."""
    names = [f"{namespace}{topic}" for topic in ALL_TOPICS]
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka, **stack.kafka_auth())
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    reader = AIOKafkaConsumer(bootstrap_servers=stack.kafka, **stack.kafka_auth())
    await reader.start()
    try:
        counts = {}
        for topic in described:
            tps = [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
            ends = await reader.end_offsets(tps)
            counts[topic["topic"].removeprefix(namespace)] = sum(ends.values())
        return counts
    finally:
        await reader.stop()


def _wait_for(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)
