"""`python -m shared.dlq_show --topic encounters.coded --entry PARTITION:OFFSET`: one dead letter,
its PHI opened, for an operator who must see why it failed.

Dead-letter topics hold PHI only as ciphertext; this is the one way to read it there, and each
use is an access record (published to `access.log`, and acknowledged, before anything is shown).
Listing and replaying dead letters needs no PHI and stays with the DLQ tooling.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from shared.crypto import PhiKeyError, use_keyring
from shared.events import topics
from shared.events.access import PhiAccessed
from shared.events.assignment import CodingTaskCreated, EncounterCoded
from shared.events.claims import ClaimStatusChanged
from shared.events.coding import CodingSubmitted
from shared.events.envelope import Envelope, EventData
from shared.events.intake import EncounterReceived
from shared.events.phi import open_paths
from shared.kafka import Publisher
from shared.kafka_security import kafka_auth, operator_settings
from shared.settings import ChartflowSettings

EVENT_TYPES: dict[str, type[EventData]] = {
    t.event_type: t
    for t in (
        EncounterReceived,
        CodingTaskCreated,
        CodingSubmitted,
        EncounterCoded,
        ClaimStatusChanged,
        PhiAccessed,
    )
}


async def read_entry(
    settings: ChartflowSettings, dlq_topic: str, partition: int, offset: int
) -> bytes:
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        **kafka_auth(settings),
    )
    await reader.start()
    try:
        where = TopicPartition(dlq_topic, partition)
        reader.assign([where])
        reader.seek(where, offset)
        record = await asyncio.wait_for(reader.getone(where), timeout=15)
        if record.offset != offset:
            raise LookupError(f"no entry {dlq_topic}:{partition}:{offset} (expired or not yet)")
        return record.value or b""
    finally:
        await reader.stop()


def opened(raw: bytes) -> Envelope:
    """The envelope with its PHI opened (a dead letter may not validate, so no validation)."""
    envelope = Envelope.from_bytes(raw)
    model = EVENT_TYPES.get(envelope.type)
    if model is None:
        return envelope
    return envelope.model_copy(update={"data": open_paths(envelope.data, model.phi_paths)})


async def show(
    settings: ChartflowSettings, topic: str, partition: int, offset: int, actor: str
) -> Envelope:
    """Record the read (acknowledged by Kafka), then return the entry with its PHI opened."""
    dlq_topic = settings.topic(topics.dead_letter(topic))
    raw = await read_entry(settings, dlq_topic, partition, offset)
    envelope = Envelope.from_bytes(raw)
    accessed = PhiAccessed(
        actor=actor,
        role="admin",
        tenant=envelope.tenant or None,
        action="dlq.read",
        encounter_key=envelope.subject,
        route=f"python -m shared.dlq_show {dlq_topic}:{partition}:{offset}"[:200],
        service="dlq-show",
        at=datetime.now(UTC),
    )
    publisher = Publisher(settings.kafka_bootstrap_servers, **kafka_auth(settings))
    await publisher.start()
    try:
        record = Envelope.wrap(
            accessed, source="dlq-show", subject=envelope.subject, tenant=envelope.tenant
        )
        await publisher.publish(settings.topic(topics.ACCESS_LOG), record)
    finally:
        await publisher.stop()
    return opened(raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.dlq_show", description=__doc__)
    parser.add_argument("--topic", required=True, help="the source topic, e.g. encounters.coded")
    parser.add_argument("--entry", required=True, metavar="PARTITION:OFFSET")
    parser.add_argument("--actor", default=getpass.getuser(), help="who reads (access log)")
    args = parser.parse_args(argv)
    partition, _, offset = args.entry.partition(":")
    settings = operator_settings()
    try:
        use_keyring(settings.phi_keyring())
        envelope = asyncio.run(show(settings, args.topic, int(partition), int(offset), args.actor))
    except (LookupError, ValueError, ValidationError, PhiKeyError, TimeoutError) as exc:
        print(f"dlq_show: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(envelope.model_dump(mode="json"), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
