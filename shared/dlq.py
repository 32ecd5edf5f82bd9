"""Dead-letter topics you can operate: list entries, replay them after a fix, measure depth.

    python -m shared.dlq list [--topic encounters.coded] [--all]
    python -m shared.dlq replay --topic encounters.coded [--entry PARTITION:OFFSET ...]

`list` prints each entry's time, where it sits, the topic, partition and offset it came from,
its key, the consumer that gave up, the error type and the reason — never the payload (it may
hold PHI). `replay` publishes entries back to the topic they came from, with their key, so
the consumer handles them again; consumers' inboxes drop an event they already processed, so
replaying twice is harmless. A replay of every pending entry moves the topic's replay mark
(consumer group `<prefix>chartflow.dlq-replay`): `list` and the `chartflow_dlq_depth` metric
count only what lies past it. Topic names are given without the namespace prefix, which comes
from `CHARTFLOW_NAMESPACE_PREFIX` like every other setting.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from shared.events.topics import dead_letter
from shared.kafka import Publisher
from shared.kafka_access import CONSUMES, REPLAY_GROUP
from shared.kafka_security import kafka_auth, operator_settings
from shared.metrics import DLQ_DEPTH
from shared.settings import ChartflowSettings

log = structlog.get_logger()
CONSUMED_TOPICS = tuple(sorted({t for consumed in CONSUMES.values() for t in consumed}))


def replay_group(prefix: str) -> str:
    return f"{prefix}{REPLAY_GROUP}"


@dataclass(frozen=True)
class DeadLetter:
    """One DLQ entry; `value` is the original message and is never printed."""

    dlq_topic: str
    partition: int
    offset: int
    time: datetime
    key: str
    topic: str
    source_partition: str
    source_offset: str
    consumer: str
    error: str
    attempts: str
    reason: str
    value: bytes = field(repr=False)  # may hold PHI: never printed

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        headers = {name: value.decode(errors="replace") for name, value in record.headers}
        return cls(
            dlq_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            time=datetime.fromtimestamp(record.timestamp / 1000, UTC),
            key=(record.key or b"").decode(errors="replace"),
            topic=headers.get("dlq.topic", ""),
            source_partition=headers.get("dlq.partition", ""),
            source_offset=headers.get("dlq.offset", ""),
            consumer=headers.get("dlq.consumer", ""),
            error=headers.get("dlq.error", ""),
            attempts=headers.get("dlq.attempts", ""),
            reason=headers.get("dlq.reason", ""),
            value=record.value or b"",
        )

    def line(self) -> str:
        return "\t".join(
            [
                self.time.isoformat(timespec="seconds"),
                f"{self.dlq_topic}:{self.partition}:{self.offset}",
                f"{self.topic}:{self.source_partition}:{self.source_offset}",
                self.key,
                self.consumer,
                self.error,
                self.attempts,
                self.reason,
            ]
        )


HEADER = "time\tentry\tfrom\tkey\tconsumer\terror\tattempts\treason"


class DeadLetterTopic:
    """Reads one dead-letter topic to its current end, and keeps its replay mark."""

    def __init__(self, settings: ChartflowSettings, dlq_topic: str, group: str) -> None:
        self.dlq_topic = dlq_topic
        self._reader = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **kafka_auth(settings),
        )

    async def __aenter__(self) -> DeadLetterTopic:
        await self._reader.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._reader.stop()

    async def _partitions(self) -> list[TopicPartition]:
        if self.dlq_topic not in await self._reader.topics():
            return []  # nothing was ever dead-lettered here
        # The reader tracks no topic until told: load this one's partitions (aiokafka has no
        # public call for a topic one neither subscribes to nor is assigned yet).
        await self._reader._client.add_topic(self.dlq_topic)
        numbers = self._reader.partitions_for_topic(self.dlq_topic) or set()
        return [TopicPartition(self.dlq_topic, p) for p in sorted(numbers)]

    async def _bounds(self, pending_only: bool) -> dict[TopicPartition, tuple[int, int]]:
        """Per partition: where to start reading and the end offset."""
        tps = await self._partitions()
        if not tps:
            return {}
        self._reader.assign(tps)
        ends = await self._reader.end_offsets(tps)
        starts = await self._reader.beginning_offsets(tps)
        bounds = {}
        for tp in tps:
            start = starts[tp]
            if pending_only:
                start = max(start, await self._reader.committed(tp) or 0)
            bounds[tp] = (start, ends[tp])
        return bounds

    async def depth(self) -> int:
        """Entries past the replay mark."""
        return sum(end - start for start, end in (await self._bounds(True)).values())

    async def entries(self, pending_only: bool = True) -> list[DeadLetter]:
        bounds = await self._bounds(pending_only)
        todo = {tp: end for tp, (start, end) in bounds.items() if end > start}
        for tp, (start, _end) in bounds.items():
            self._reader.seek(tp, start)
        found: list[DeadLetter] = []
        async with asyncio.timeout(60):
            while todo:
                batches = await self._reader.getmany(*todo, timeout_ms=500)
                for tp, records in batches.items():
                    found += [DeadLetter.of(r) for r in records if r.offset < todo.get(tp, -1)]
                for tp in list(todo):
                    if await self._reader.position(tp) >= todo[tp]:
                        del todo[tp]
        return sorted(found, key=lambda e: (e.time, e.partition, e.offset))

    async def mark_replayed(self, entries: Iterable[DeadLetter]) -> None:
        marks: dict[TopicPartition, int] = {}
        for entry in entries:
            tp = TopicPartition(entry.dlq_topic, entry.partition)
            marks[tp] = max(marks.get(tp, 0), entry.offset + 1)
        if marks:
            await self._reader.commit({tp: OffsetAndMetadata(o, "") for tp, o in marks.items()})


async def replay(
    settings: ChartflowSettings, topic: str, only: set[tuple[int, int]] | None = None
) -> list[DeadLetter]:
    """Publish the topic's pending DLQ entries (or only those `(partition, offset)`) back."""
    dlq = dead_letter(settings.topic(topic))
    group = replay_group(settings.chartflow_namespace_prefix)
    publisher = Publisher(settings.kafka_bootstrap_servers, **kafka_auth(settings))
    await publisher.start()
    try:
        async with DeadLetterTopic(settings, dlq, group) as dlq_topic:
            pending = await dlq_topic.entries(pending_only=only is None)
            chosen = [e for e in pending if only is None or (e.partition, e.offset) in only]
            for entry in chosen:
                source = f"{entry.dlq_topic}:{entry.partition}:{entry.offset}".encode()
                headers = [("dlq.replayed_from", source)]
                await publisher.send_raw(entry.topic, entry.key, entry.value, headers)
            if only is None:
                await dlq_topic.mark_replayed(chosen)
    finally:
        await publisher.stop()
    return chosen


async def list_entries(
    settings: ChartflowSettings, names: Iterable[str], pending_only: bool
) -> list[DeadLetter]:
    group = replay_group(settings.chartflow_namespace_prefix)
    found: list[DeadLetter] = []
    for name in names:
        dlq = dead_letter(settings.topic(name))
        async with DeadLetterTopic(settings, dlq, group) as dlq_topic:
            found += await dlq_topic.entries(pending_only)
    return found


async def watch_depth(settings: ChartflowSettings, names: Iterable[str], every: float) -> None:
    """Keep `chartflow_dlq_depth` current for the dead-letter topics of `names`."""
    group = replay_group(settings.chartflow_namespace_prefix)
    while True:
        for name in list(names):
            dlq = dead_letter(settings.topic(name))
            async with DeadLetterTopic(settings, dlq, group) as dlq_topic:
                DLQ_DEPTH.labels(topic=dlq).set(await dlq_topic.depth())
        await asyncio.sleep(every)


def _entry(text: str) -> tuple[int, int]:
    partition, _, offset = text.partition(":")
    return int(partition), int(offset)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.dlq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    lister = commands.add_parser("list", help="print DLQ entries (never their payload)")
    lister.add_argument("--topic", action="append", choices=CONSUMED_TOPICS)
    lister.add_argument("--all", action="store_true", help="replayed entries too")
    replayer = commands.add_parser("replay", help="publish entries back to their topic")
    replayer.add_argument("--topic", required=True, choices=CONSUMED_TOPICS)
    replayer.add_argument(
        "--entry",
        action="append",
        type=_entry,
        metavar="PARTITION:OFFSET",
        help="only these entries of the DLQ (the replay mark does not move)",
    )
    args = parser.parse_args(argv)
    settings = operator_settings()
    if args.command == "list":
        names = args.topic or CONSUMED_TOPICS
        entries = asyncio.run(list_entries(settings, names, pending_only=not args.all))
        print(HEADER)
        for entry in entries:
            print(entry.line())
        print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}", file=sys.stderr)
        return 0
    only = set(args.entry) if args.entry else None
    replayed = asyncio.run(replay(settings, args.topic, only))
    for entry in replayed:
        print(f"replayed\t{entry.line()}")
    print(f"{len(replayed)} replayed to {settings.topic(args.topic)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
