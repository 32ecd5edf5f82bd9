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
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError, for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1, DeleteAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request

from shared.events import topics
from shared.events.topics import dead_letter
from shared.kafka_security import kafka_auth
from shared.settings import ChartflowSettings

#: The topics each service publishes (DESIGN: one owner per topic).
OWNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "intake": (topics.ENCOUNTERS_RECEIVED,),
        "assignment": (topics.CODING_TASKS, topics.ENCOUNTERS_CODED),
        "coding": (topics.CODING_EVENTS,),
        "claims": (topics.CLAIMS_STATUS,),
    }
)
#: The topics each service consumes (its `Runtime.start_consumer` calls).
CONSUMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "intake": (topics.ENCOUNTERS_CODED, topics.CLAIMS_STATUS),
        "assignment": (topics.ENCOUNTERS_RECEIVED, topics.CODING_EVENTS),
        "coding": (topics.CODING_TASKS,),
        "claims": (topics.ENCOUNTERS_CODED,),
    }
)
TOPICS: tuple[str, ...] = tuple(t for owned in OWNS.values() for t in owned)
PARTITIONS = 3  # keyed by encounter: one encounter's events stay in one partition, in order
DLQ_PARTITIONS = 1  # read by people and replay tools, not in parallel
REPLICATION = 1  # deploy/local is one broker; a production cluster says 3 (docs/kafka-security.md)


class Resource(enum.IntEnum):
    TOPIC = 2
    GROUP = 3


class Pattern(enum.IntEnum):
    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class Operation(enum.IntEnum):
    ANY = 1
    READ = 3
    WRITE = 4


_ANY_RESOURCE = 1
_ALLOW = 3
_ANY_PERMISSION = 1
_ANY_HOST = "*"
PROPAGATION_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class AclBinding:
    """One ALLOW rule: `User:<principal>` may do `operation` on the resource, from any host."""

    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    def key(self) -> tuple[int, str, int, str, int]:
        return (self.resource, self.name, self.pattern, f"User:{self.principal}", self.operation)

    def as_creation(self) -> tuple[int, str, int, str, str, int, int]:
        return (
            self.resource,
            self.name,
            self.pattern,
            f"User:{self.principal}",
            _ANY_HOST,
            self.operation,
            _ALLOW,
        )


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
        allow(service, Resource.GROUP, f"{service}.", Operation.READ, Pattern.PREFIXED)
    return acls


class _CreateAcls(Request[CreateAclsRequest_v1]):
    """CreateAcls with many bindings in one request (aiokafka's sends one)."""

    API_KEY = 30

    def __init__(self, acls: Sequence[AclBinding]) -> None:
        self._acls = acls

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class([acl.as_creation() for acl in self._acls])


class _DeleteAcls(Request[DeleteAclsRequest_v1]):
    """DeleteAcls of every rule on the given exact resources, for any principal."""

    API_KEY = 31

    def __init__(self, resources: Sequence[tuple[Resource, str, Pattern]]) -> None:
        self._resources = resources

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> DeleteAclsRequest_v1:
        return request_struct_class(
            [
                (kind, name, pattern, None, None, Operation.ANY, _ANY_PERMISSION)
                for kind, name, pattern in self._resources
            ]
        )


def _raise_errors(what: str, errors: Sequence[tuple[Any, ...]], ignore: tuple[int, ...]) -> None:
    """Raise the broker's first error (code first, message second in each row)."""
    for row in errors:
        code, message = row[0], row[1]
        if code and code not in ignore:
            raise for_code(code)(f"{what}: {message}")


async def provision_namespace(admin_settings: ChartflowSettings, prefix: str = "") -> int:
    """Create the namespace's topics (existing ones are kept) and its ACLs; idempotent.

    Returns how many topics were new. `admin_settings` are the admin principal's.
    """
    async with _admin(admin_settings) as admin:
        new_topics = namespace_topics(prefix)
        response = await admin.create_topics(new_topics)
        errors = [(e[1], e[2]) for e in response.topic_errors]
        _raise_errors("create topics", errors, ignore=(TopicAlreadyExistsError.errno,))
        created = sum(1 for code, _ in errors if code == 0)
        acls = namespace_acls(prefix)
        response = await admin._send_request(_CreateAcls(acls))
        _raise_errors("create ACLs", response.creation_responses, ignore=())
        await _until_in_force(admin, acls)
    return created


async def _until_in_force(admin: AIOKafkaAdminClient, acls: Sequence[AclBinding]) -> None:
    """Wait until the broker's authorizer has the new rules (the controller commits them first,
    the broker applies them from the metadata log a moment later)."""
    wanted = {acl.key() for acl in acls}
    every_acl = DescribeAclsRequest(
        _ANY_RESOURCE, None, Pattern.ANY, None, None, Operation.ANY, _ANY_PERMISSION
    )
    deadline = asyncio.get_running_loop().time() + PROPAGATION_TIMEOUT_SECONDS
    while True:
        response = await admin._send_request(every_acl)
        _raise_errors("describe ACLs", [(response.error_code, response.error_message)], ())
        known = {
            (kind, name, pattern, acl[0], acl[2])
            for kind, name, pattern, rules in response.resources
            for acl in rules
        }
        if wanted <= known:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(wanted - known)} ACLs not in force after the timeout")
        await asyncio.sleep(0.05)


async def remove_namespace(admin_settings: ChartflowSettings, prefix: str) -> None:
    """Delete a (test or parallel) namespace's topics and ACLs."""
    if not prefix:
        raise ValueError("the default namespace is not removed")
    async with _admin(admin_settings) as admin:
        names = [t.name for t in namespace_topics(prefix)]
        response = await admin.delete_topics(names)
        errors = [(e[1], "") for e in response.topic_error_codes]
        _raise_errors("delete topics", errors, ignore=(UnknownTopicOrPartitionError.errno,))
        resources = {(acl.resource, acl.name, acl.pattern) for acl in namespace_acls(prefix)}
        deleted = await admin._send_request(_DeleteAcls(sorted(resources)))
        _raise_errors("delete ACLs", [r[:2] for r in deleted.filter_responses], ignore=())


class _admin:
    """An admin client as the given settings' principal, closed on exit."""

    def __init__(self, settings: ChartflowSettings) -> None:
        self._client = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            request_timeout_ms=15000,
            **kafka_auth(settings),
        )

    async def __aenter__(self) -> AIOKafkaAdminClient:
        await self._client.start()
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.kafka_access",
        description="Create (or remove) a namespace's Kafka topics and ACLs, as the admin.",
    )
    parser.add_argument("action", choices=("provision", "remove"))
    parser.add_argument("--prefix", default="", help="CHARTFLOW_NAMESPACE_PREFIX (default: none)")
    args = parser.parse_args(argv)
    settings = ChartflowSettings(service_name="admin")
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


if __name__ == "__main__":
    raise SystemExit(main())
