"""Schemathesis against the four APIs over HTTP: generated requests, valid and invalid, never
get a 5xx, and every answer matches the OpenAPI (status, content type, body schema)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deploy.demo.driver import Endpoints, Scenario
from tests.conftest import Stack
from tests.e2e.conftest import SERVICES, Services

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("application/edi-x12", "application/x-ndjson")
def _text(_context: Any, value: Any) -> bytes:
    """An X12 body (the claims API's 835 upload) or an NDJSON file (intake's bulk upload) is
    text: send the generated string as it is."""
    return value.encode() if isinstance(value, str) else str(value).encode()


CASES_PER_API = 300  # spread over the operations that take input, half of them invalid
CASES: dict[str, int] = {}


@pytest.fixture(scope="module")
def apis(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The four APIs alone (no consumers, no worker), seeded like the demo."""
    running = Services(stack, tmp_path_factory.mktemp("var"), role="api")
    try:
        running.start_all(SERVICES)
        scenario = Scenario(Endpoints.local(running.ports, running.admin_token))
        scenario.seed()
        yield scenario
    finally:
        running.stop_all()


def _credentials(scenario: Scenario, service: str) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {scenario.endpoints.admin_token}"}
    keys = {"intake": scenario.hospital_key, "coding": next(iter(scenario.coder_keys.values()))}
    return {**admin, "X-API-Key": keys[service]} if service in keys else admin


def _fuzz(service: str, base_url: str, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    CASES[service] = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    with_input = [op for op in operations if op.body or op.path_parameters or op.query]
    examples = max(25, CASES_PER_API // (2 * len(with_input)))
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                CASES[service] += 1
                case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

            try:
                call()
            except Unsatisfiable:
                pass  # nothing invalid to send: the operation takes no input
            except (Exception, BaseExceptionGroup) as exc:  # a check failed: report them all
                failures.append(f"{operation.label} ({mode}): {str(exc)[:1500]}")
    return failures


@pytest.mark.parametrize("service", SERVICES)
def test_every_generated_request_gets_a_documented_answer_and_never_a_server_error(
    apis: Scenario, service: str
) -> None:
    base_url = getattr(apis.endpoints, service)
    failures = _fuzz(service, base_url, _credentials(apis, service))

    print(f"schemathesis {service}: {CASES[service]} cases, {len(failures)} failures")
    assert failures == []
    assert CASES[service] >= 200  # a few hundred cases per API
    assert httpx.get(f"{base_url}/health").status_code == 200
