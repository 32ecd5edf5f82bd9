"""Kafka ACLs over the admin protocol: create, delete and wait for rules (aiokafka has no API).

`AclBinding` is one ALLOW rule; `create_acls`, `delete_acls` and `until_in_force` send the
CreateAcls / DeleteAcls / DescribeAcls requests through an `AIOKafkaAdminClient`.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1, DeleteAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request

PROPAGATION_TIMEOUT_SECONDS = 15.0


class Resource(enum.IntEnum):
    ANY = 1
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
    DESCRIBE = 8


_ANY_PERMISSION = 1
_ALLOW = 3
_ANY_HOST = "*"


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
        resource, name, pattern, principal, operation = self.key()
        return (resource, name, pattern, principal, _ANY_HOST, operation, _ALLOW)


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


def raise_errors(what: str, errors: Sequence[tuple[Any, ...]], ignore: tuple[int, ...]) -> None:
    """Raise the broker's first error (code first, message second in each row)."""
    for row in errors:
        code, message = row[0], row[1]
        if code and code not in ignore:
            raise for_code(code)(f"{what}: {message}")


async def create_acls(admin: AIOKafkaAdminClient, acls: Sequence[AclBinding]) -> None:
    """Create the rules (an existing identical rule is kept) and wait until they are in force."""
    response = await admin._send_request(_CreateAcls(acls))
    raise_errors("create ACLs", response.creation_responses, ignore=())
    await until_in_force(admin, acls)


async def delete_acls(admin: AIOKafkaAdminClient, acls: Sequence[AclBinding]) -> None:
    """Delete every rule on the resources the given bindings name."""
    resources = sorted({(acl.resource, acl.name, acl.pattern) for acl in acls})
    response = await admin._send_request(_DeleteAcls(resources))
    raise_errors("delete ACLs", [r[:2] for r in response.filter_responses], ignore=())


async def until_in_force(admin: AIOKafkaAdminClient, acls: Sequence[AclBinding]) -> None:
    """Wait until the broker's authorizer has the rules (the controller commits them first, the
    broker applies them from the metadata log a moment later)."""
    wanted = {acl.key() for acl in acls}
    every_acl = DescribeAclsRequest(
        Resource.ANY, None, Pattern.ANY, None, None, Operation.ANY, _ANY_PERMISSION
    )
    deadline = asyncio.get_running_loop().time() + PROPAGATION_TIMEOUT_SECONDS
    while True:
        response = await admin._send_request(every_acl)
        raise_errors("describe ACLs", [(response.error_code, response.error_message)], ())
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


__all__ = [
    "AclBinding",
    "Operation",
    "Pattern",
    "Resource",
    "create_acls",
    "delete_acls",
    "raise_errors",
    "until_in_force",
]
