"""Who may read and write which topic, and the topics and ACLs of one namespace.

A service writes only the topics it owns and the DLQs of the topics it consumes; it reads
only the topics it consumes, in its own consumer groups (`<prefix><service>.<topic>`).
Topics are never auto-created: `provision_namespace` creates a namespace's topics (with their
DLQs) and those ACLs. The runner provisions the default namespace at every `stack.py up`; test
fixtures and parallel deployments provision their `CHARTFLOW_NAMESPACE_PREFIX` and remove it
afterwards. Run as `python -m shared.kafka_access provision|remove [--prefix P]` with the
admin principal's settings (KAFKA_BOOTSTRAP_SERVERS, KAFKA_CREDENTIALS_FILE).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from types import MappingProxyType

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

from shared.events import topics
from shared.events.topics import dead_letter
from shared.kafka_acls import (
    AclBinding,
    Operation,
    Pattern,
    Resource,
    create_acls,
    delete_acls,
    raise_errors,
)
from shared.kafka_security import kafka_auth, operator_settings
from shared.settings import ChartflowSettings

#: The topics each service publishes (DESIGN: one owner per topic; the PHI access log is the
#: exception: every service records its own reads there, and only intake reads it).
OWNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "intake": (topics.ENCOUNTERS_RECEIVED, topics.QUERY_ANSWERS, topics.ACCESS_LOG),
        "assignment": (
            topics.CODING_TASKS,
            topics.ENCOUNTERS_CODED,
            topics.ENCOUNTERS_RETURNED,
            topics.ASSIGNMENT_EVENTS,
            topics.ACCESS_LOG,
        ),
        "coding": (
            topics.CODING_EVENTS,
            topics.PHYSICIAN_QUERIES,
            topics.CODING_SCORECARDS,
            topics.ACCESS_LOG,
        ),
        "claims": (topics.CLAIMS_STATUS, topics.ACCESS_LOG),
    }
)
#: The topics each service consumes (its `Runtime.start_consumer` calls).
CONSUMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "intake": (
            topics.ENCOUNTERS_CODED,
            topics.CLAIMS_STATUS,
            topics.ENCOUNTERS_RETURNED,
            topics.PHYSICIAN_QUERIES,
            topics.ASSIGNMENT_EVENTS,
            topics.ACCESS_LOG,
            topics.CODING_SCORECARDS,
        ),
        "assignment": (
            topics.ENCOUNTERS_RECEIVED,
            topics.CODING_EVENTS,
            topics.PHYSICIAN_QUERIES,
            topics.QUERY_ANSWERS,
            topics.CLAIMS_STATUS,  # the encounter's workflow follows its claim to an outcome
        ),
        "coding": (topics.CODING_TASKS, topics.QUERY_ANSWERS),
        "claims": (topics.ENCOUNTERS_CODED,),
    }
)
TOPICS: tuple[str, ...] = tuple(dict.fromkeys(t for owned in OWNS.values() for t in owned))
#: The consumer group that keeps each DLQ's replay mark (`shared.dlq`); services read it to
#: report DLQ depth, operators (the admin principal) move it.
REPLAY_GROUP = "chartflow.dlq-replay"
PARTITIONS = 3  # keyed by encounter: one encounter's events stay in one partition, in order
DLQ_PARTITIONS = 1  # read by people and replay tools, not in parallel
REPLICATION = 1  # deploy/local is one broker; a production cluster says 3 (docs/kafka-security.md)


def namespace_topics(prefix: str) -> list[NewTopic]:
    """Every topic of the namespace and its dead-letter topic."""
    return [
        NewTopic(f"{prefix}{name}", partitions, REPLICATION)
        for topic in TOPICS
        for name, partitions in ((topic, PARTITIONS), (dead_letter(topic), DLQ_PARTITIONS))
    ]


def namespace_acls(prefix: str) -> list[AclBinding]:
    """The service principals' rules for the namespace's topics and consumer groups."""
    acls: list[AclBinding] = []

    def allow(service: str, resource: Resource, name: str, op: Operation, pattern: Pattern) -> None:
        acls.append(AclBinding(service, resource, f"{prefix}{name}", pattern, op))

    for service in OWNS:
        for topic in OWNS[service]:
            allow(service, Resource.TOPIC, topic, Operation.WRITE, Pattern.LITERAL)
        for topic in CONSUMES[service]:
            allow(service, Resource.TOPIC, topic, Operation.READ, Pattern.LITERAL)
            allow(service, Resource.TOPIC, dead_letter(topic), Operation.WRITE, Pattern.LITERAL)
            allow(service, Resource.TOPIC, dead_letter(topic), Operation.READ, Pattern.LITERAL)
        allow(service, Resource.GROUP, f"{service}.", Operation.READ, Pattern.PREFIXED)
        allow(service, Resource.GROUP, REPLAY_GROUP, Operation.DESCRIBE, Pattern.LITERAL)
    return acls


async def provision_namespace(admin_settings: ChartflowSettings, prefix: str = "") -> int:
    """Create the namespace's topics (existing ones are kept) and its ACLs; idempotent.

    Returns how many topics were new. `admin_settings` are the admin principal's.
    """
    async with _admin(admin_settings) as admin:
        response = await admin.create_topics(namespace_topics(prefix))
        errors = [(e[1], e[2]) for e in response.topic_errors]
        raise_errors("create topics", errors, ignore=(TopicAlreadyExistsError.errno,))
        await create_acls(admin, namespace_acls(prefix))
    return sum(1 for code, _ in errors if code == 0)


async def remove_namespace(admin_settings: ChartflowSettings, prefix: str) -> None:
    """Delete a (test or parallel) namespace's topics and ACLs."""
    if not prefix:
        raise ValueError("the default namespace is not removed")
    async with _admin(admin_settings) as admin:
        names = [t.name for t in namespace_topics(prefix)]
        response = await admin.delete_topics(names)
        errors = [(e[1], "") for e in response.topic_error_codes]
        raise_errors("delete topics", errors, ignore=(UnknownTopicOrPartitionError.errno,))
        await delete_acls(admin, namespace_acls(prefix))


@contextlib.asynccontextmanager
async def _admin(settings: ChartflowSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    """An admin client as the settings' principal."""
    client = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=15000,
        **kafka_auth(settings),
    )
    await client.start()
    try:
        yield client
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.kafka_access",
        description="Create (or remove) a namespace's Kafka topics and ACLs, as the admin.",
    )
    parser.add_argument("action", choices=("provision", "remove"))
    parser.add_argument("--prefix", default="", help="CHARTFLOW_NAMESPACE_PREFIX (default: none)")
    args = parser.parse_args(argv)
    settings = operator_settings()
    label = f"namespace {args.prefix!r}" if args.prefix else "the default namespace"
    if args.action == "provision":
        created = asyncio.run(provision_namespace(settings, args.prefix))
        count = len(namespace_topics(args.prefix))
        print(
            f"kafka: {label}: {count} topics ({created} new), "
            f"{len(namespace_acls(args.prefix))} ACLs for {', '.join(OWNS)}"
        )
    else:
        asyncio.run(remove_namespace(settings, args.prefix))
        print(f"kafka: {label}: topics and ACLs removed")
    return 0


__all__ = [
    "CONSUMES",
    "OWNS",
    "TOPICS",
    "namespace_acls",
    "namespace_topics",
    "provision_namespace",
    "remove_namespace",
]

if __name__ == "__main__":
    raise SystemExit(main())
