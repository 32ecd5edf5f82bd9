"""No single input stops the platform: impossible requests are refused naming the field, a
poison event lands in the DLQ with a reason while claims keep flowing, and a coder can hand
an uncodable encounter back to the hospital. Over HTTP and the real broker only."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from deploy.demo.driver import Scenario
from shared.dlq import DeadLetter, DeadLetterTopic
from shared.events.envelope import Envelope
from shared.kafka import Publisher
from shared.settings import ChartflowSettings
from tests.conftest import REPO, Stack
from tests.e2e.conftest import Services

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]


def _batch(platform: Scenario, suffix: str) -> Scenario:
    """The demo encounters under new external ids, coded by the same coder."""
    data = copy.deepcopy(platform.data)
    for item in data["encounters"]:
        item["encounter"]["external_id"] += suffix
    return Scenario(
        platform.endpoints,
        data=data,
        hospital_key=platform.hospital_key,
        coder_keys=platform.coder_keys,
    )


def _refused_field(answer: httpx.Response) -> str:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    field: str = answer.json()["errors"][0]["field"]
    return field


def _first_task(platform: Scenario) -> tuple[dict[str, str], dict[str, Any]]:
    """A task of this batch on the coder's worklist (waiting for one to arrive)."""
    headers = {"X-API-Key": next(iter(platform.coder_keys.values()))}
    url = f"{platform.endpoints.coding}/v1/worklist"
    ours = set(platform.answers())
    for _ in range(120):
        tasks = platform.client.get(url, headers=headers).json()
        tasks = [t for t in tasks if t["encounter_key"] in ours]
        if tasks:
            return headers, tasks[0]
        time.sleep(0.5)
    raise TimeoutError("no task reached the worklist")


def test_impossible_requests_are_refused_naming_the_field_and_the_next_encounters_get_paid(
    platform: Scenario,
) -> None:
    encounter = platform.data["encounters"][0]["encounter"]
    intake = f"{platform.endpoints.intake}/v1/encounters"
    hospital = {"X-API-Key": platform.hospital_key}
    inpatient = platform.data["encounters"][4]["encounter"]
    impossible = {
        "charges.0.units": {**encounter, "charges": [{**encounter["charges"][0], "units": 10**27}]},
        "service_date": {**encounter, "service_date": "2099-01-01"},
        "service_date ": {**encounter, "service_date": "0001-01-01"},
        "patient.birth_date": {
            **encounter,
            "patient": {**encounter["patient"], "birth_date": "2026-10-01"},
        },
        "discharge_date": {**inpatient, "discharge_date": "2026-09-01"},
    }
    refused = {
        name: _refused_field(platform.client.post(intake, json=body, headers=hospital))
        for name, body in impossible.items()
    }
    first = _batch(platform, "-A")
    pushed = first.push_all()
    coder, task = _first_task(first)
    codes = first.answers()[task["encounter_key"]]
    units = {**codes, "procedures": [{**codes["procedures"][0], "units": 10**30}]}
    submit = f"{platform.endpoints.coding}/v1/tasks/{task['id']}/codes"
    coder_refused = _refused_field(platform.client.post(submit, json=units, headers=coder))

    views = first.run_until_claimed(pushed, timeout=90)

    assert refused == {name: name.strip() for name in impossible}
    assert coder_refused == "procedures.0.units"
    assert {v["status"] for v in views.values()} == {"claim_paid"}


async def _dlq(stack: Stack, topic: str, count: int) -> list[DeadLetter]:
    async with asyncio.timeout(60):
        while True:
            async with DeadLetterTopic(
                ChartflowSettings(**stack.kafka_settings()), f"{topic}.dlq", "e2e-reader"
            ) as dlq:
                entries = await dlq.entries(pending_only=False)
            if len(entries) >= count:
                return entries
            await asyncio.sleep(0.5)


async def _inject(stack: Stack, topic: str, poison: list[tuple[str, bytes]]) -> None:
    publisher = Publisher(stack.kafka, **stack.kafka_auth())
    await publisher.start()
    try:
        for key, value in poison:
            await publisher.send_raw(topic, key, value)
    finally:
        await publisher.stop()


def _poison(platform: Scenario) -> list[tuple[str, bytes]]:
    """Not an event at all, and a coded encounter billing 10^30 units."""
    coded = {
        "encounter_key": "mercy:POISON-1",
        "hospital_id": platform.data["hospital"]["id"],
        "billing_provider": {
            k: platform.data["hospital"][k] for k in ("name", "npi", "tax_id", "address")
        },
        "encounter": platform.data["encounters"][0]["encounter"],
        "diagnoses": [{"code": "E11.9"}],
        "procedures": [{"code": "99214", "units": 10**30, "dx_pointers": [1]}],
        "coder_id": "coder-ava",
    }
    envelope = Envelope(
        type="chartflow.assignment.encounter.coded",
        source="test",
        subject="mercy:POISON-1",
        tenant="mercy",
        dataschema="chartflow:chartflow.assignment.encounter.coded/v1",
        data=coded,
    )
    return [("mercy:POISON-0", b"\x00not an event"), ("mercy:POISON-1", envelope.to_bytes())]


def _dlq_command(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.dlq", *args],
        cwd=REPO,
        # An operator's command: the admin principal's Kafka credentials.
        env={
            **services.env,
            **{k.upper(): str(v) for k, v in services.stack.kafka_settings().items()},
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_a_poison_event_lands_in_the_dlq_with_a_reason_and_claims_keep_flowing(
    platform: Scenario, services: Services, stack: Stack
) -> None:
    topic = f"{services.env['CHARTFLOW_NAMESPACE_PREFIX']}encounters.coded"
    asyncio.run(_inject(stack, topic, _poison(platform)))
    second = _batch(platform, "-B")

    views = second.run_until_claimed(second.push_all(), timeout=90)
    dead = asyncio.run(_dlq(stack, topic, 4))  # intake and claims each gave up on both
    listed = _dlq_command(services, "list", "--topic", "encounters.coded")
    replayed = _dlq_command(services, "replay", "--topic", "encounters.coded")
    after_replay = _dlq_command(services, "list", "--topic", "encounters.coded")
    ready = httpx.get(f"{platform.endpoints.claims}/health/ready", timeout=10)

    assert {v["status"] for v in views.values()} == {"claim_paid"}
    claims_gave_up = {e.key: e for e in dead if e.consumer.endswith("claims.encounters.coded")}
    assert set(claims_gave_up) == {"mercy:POISON-0", "mercy:POISON-1"}
    assert "not a valid event envelope" in claims_gave_up["mercy:POISON-0"].reason
    units = claims_gave_up["mercy:POISON-1"].reason
    assert units.startswith("procedures.0.units: Input should be less than or equal to 9999")
    assert str(10**30) not in units
    # The operator's view: reasons and keys, never the payload.
    assert listed.stdout.count("mercy:POISON-1") == 2
    assert "procedures.0.units" in listed.stdout
    assert "E11.9" not in listed.stdout and "Sample" not in listed.stdout
    assert replayed.stdout.count("replayed\t") == 4
    # Replayed entries are behind the replay mark (the poison, replayed, is dead-lettered anew).
    for entry in dead:
        assert f"{entry.dlq_topic}:{entry.partition}:{entry.offset}\t" in replayed.stdout
        assert f"{entry.dlq_topic}:{entry.partition}:{entry.offset}\t" not in after_replay.stdout
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_a_coder_returns_an_uncodable_encounter_and_the_hospital_sees_why(
    platform: Scenario,
) -> None:
    third = _batch(platform, "-C")
    third.data["encounters"] = third.data["encounters"][:1]
    pushed = third.push(third.data["encounters"][0]["encounter"])
    coder, task = _first_task(third)
    url = f"{platform.endpoints.coding}/v1/tasks/{task['id']}/return"
    note = {"reason": "documentation_incomplete", "note": "no procedure note for 20610"}

    answer = platform.client.post(url, json=note, headers=coder)
    for _ in range(120):
        view = third.encounter(pushed["id"])
        if view["status"] == "returned":
            break
        time.sleep(0.5)

    assert answer.status_code == 202
    assert view["status"] == "returned"
    assert view["returned_reason"] == "documentation_incomplete: no procedure note for 20610"
    assert json.dumps(view).count("claim_paid") == 0
