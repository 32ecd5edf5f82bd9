"""An encounter with a marker in every PHI field goes to `paid`; no marker is left in plaintext.

The marked encounter (patient and subscriber: names, address lines, city, birth dates as rare
dates in ISO and 837 form; member id; note text) runs through the four services over HTTP, with
a physician query on the way (it quotes the marked note; its question and the physician's
answer carry markers of their own), its 837 is read by the admin, and a message carrying the
same PHI is dead-lettered by both consumers of `encounters.coded`. Then these places are
searched, and each is also checked for something that must be there in plaintext (the
encounter's key), so a search of an empty or wrong place cannot pass:

1. every record of every topic of this platform, dead-letter topics included (keys, values,
   headers), read from the broker: what travels on the wire (every topic of the flow must
   have been read);
2. every file of the broker's data directory, `var/kafka/data` (segments, indexes,
   checkpoints, snapshots);
3. every log file: the four services' logs and the stack's (`var/log`: Kafka, Temporal,
   PostgreSQL);
4. every file of the platform's data folder (SQLite databases with their WAL and SHM files,
   the keys) and every file of the PostgreSQL cluster's data directory (tables, WAL);
5. every row of every table of the four services' databases, read back through SQL (catches
   values a storage engine might compress on disk);
6. the Temporal history of the encounter's workflow, and the Temporal server's database files.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import create_engine, inspect, text
from temporalio.client import Client

from deploy.demo.driver import Scenario
from services.assignment.workflows import workflow_id
from shared.crypto import load_keyring, use_keyring
from shared.events import topics
from shared.events.assignment import EncounterCoded
from shared.events.envelope import Envelope
from shared.events.phi import seal_paths
from shared.kafka import Publisher
from shared.settings import ChartflowSettings
from tests.conftest import REPO, Stack
from tests.e2e.conftest import SERVICES, Services
from tests.phi_markers import Search, holds, marked_encounter

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

STACK_VAR = Path(os.environ.get("STACK_VAR", REPO / "var"))  # the broker's, Temporal's, PG's


@dataclass
class Marked:
    encounter: dict[str, Any]  # as pushed
    markers: dict[str, str]  # by field
    view: dict[str, Any]  # as the hospital sees it once paid
    x12: str  # the 837, as the admin read it


@pytest.fixture(scope="module")
def marked(platform: Scenario) -> Marked:
    """The marked encounter (the child of demo encounter 2), pushed, coded, paid, and its 837
    read by the admin."""
    item = platform.data["encounters"][1]
    encounter, markers = marked_encounter(item["encounter"])
    platform.data["encounters"].append({"encounter": encounter, "coding": item["coding"]})
    pushed = platform.push(encounter)
    _ask_the_physician(platform, pushed["encounter_key"], markers)
    [view] = platform.run_until_claimed({encounter["external_id"]: pushed}, timeout=90).values()
    assert view["status"] == "claim_paid", view
    [claim] = platform.claims_for(view["encounter_key"])
    return Marked(encounter, markers, view, platform.claim_x12(claim["id"]))


def _until(what: str, probe: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := probe()):
        assert time.monotonic() < deadline, f"no {what} within {seconds}s"
        time.sleep(0.2)
    return found


def _ask_the_physician(platform: Scenario, key: str, markers: dict[str, str]) -> None:
    """The coder asks about the marked note in a marked question; the physician answers in
    marked words; the task comes back with the answer on the chart."""
    c, e = platform.client, platform.endpoints
    hospital = {"X-API-Key": platform.hospital_key}

    def on_worklist() -> tuple[dict[str, str], dict[str, Any]] | None:
        for api_key in platform.coder_keys.values():
            coder = {"X-API-Key": api_key}
            tasks = platform._ok(c.get(f"{e.coding}/v1/worklist", headers=coder))
            for task in tasks:
                if task["encounter_key"] == key:
                    return coder, task
        return None

    coder, task = _until("the task on a worklist", on_worklist)
    chart = platform._ok(c.get(f"{e.coding}/v1/tasks/{task['id']}", headers=coder))["chart"]
    quote = f"Seen with {markers['documents.0.text']}"
    markers["query.question"] = asked = f"Qz{uuid.uuid4().hex[:12]}"
    markers["query.answer"] = said = f"Qz{uuid.uuid4().hex[:12]}"
    query = {
        "question": f"Please clarify what the finding {asked} in the visit note represents.",
        "format": "open_ended",
        "indicators": [
            {"document": 0, "start": chart["documents"][0]["text"].index(quote), "quote": quote}
        ],
    }
    raised = c.post(f"{e.coding}/v1/tasks/{task['id']}/queries", json=query, headers=coder)
    assert raised.status_code == 201, raised.text
    [seen] = _until(
        "the query at the hospital",
        lambda: platform._ok(c.get(f"{e.intake}/v1/queries", headers=hospital)),
    )
    answer = {"answered_by_npi": "1112223338", "text": f"Consistent with {said}."}
    answered = c.post(f"{e.intake}/v1/queries/{seen['id']}/answer", json=answer, headers=hospital)
    assert answered.status_code == 200, answered.text
    _until("the task back on its worklist", on_worklist)
    addendum = platform._ok(c.get(f"{e.coding}/v1/tasks/{task['id']}", headers=coder))
    assert said in addendum["chart"]["documents"][-1]["text"]  # it did go through


def _dead_letter_a_coded_encounter(services: Services, stack: Stack, marked: Marked) -> str:
    """A message both consumers of `encounters.coded` dead-letter (no coder id), PHI inside."""
    prefix = services.env["CHARTFLOW_NAMESPACE_PREFIX"]
    use_keyring(load_keyring(None, None, services.var))  # the platform's keys
    hospital = marked.view["encounter_key"].split(":")[0]
    data = {
        "encounter_key": f"{marked.view['encounter_key']}-poison",
        "hospital_id": hospital,
        "billing_provider": {"name": "H", "npi": "1234567893", "tax_id": "1",
                             "address": {"line1": "1 Way", "city": "Springfield",
                                         "state": "IL", "zip": "62701"}},
        "encounter": marked.encounter,
        "diagnoses": [],
        "procedures": [],
    }  # fmt: skip
    envelope = Envelope(
        type=EncounterCoded.event_type,
        source="test",
        subject=data["encounter_key"],
        tenant=hospital,
        dataschema=EncounterCoded.dataschema(),
        data=seal_paths(data, EncounterCoded.phi_paths),
    )

    async def publish() -> None:
        publisher = Publisher(stack.kafka, **stack.kafka_auth())
        await publisher.start()
        try:
            await publisher.publish(f"{prefix}{topics.ENCOUNTERS_CODED}", envelope)
        finally:
            await publisher.stop()

    asyncio.run(publish())
    return f"{prefix}{topics.dead_letter(topics.ENCOUNTERS_CODED)}"


def test_the_access_log_shows_the_chart_and_x12_reads_to_the_admin_and_the_hospital(
    platform: Scenario, marked: Marked
) -> None:
    key = marked.view["encounter_key"]
    wanted = {
        ("chart.read", "coder"),
        ("claim.x12.read", "admin"),
        ("encounter.read", "hospital"),
        ("query.read", "hospital"),
    }
    deadline = time.monotonic() + 30
    while True:  # the records travel through `access.log` to intake
        records = platform.access_log(encounter_key=key)
        if wanted <= {(r["action"], r["role"]) for r in records} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    hospital_view = platform.access_log(as_hospital=True, encounter_key=key)

    assert wanted <= {(r["action"], r["role"]) for r in records}, records
    chart = next(r for r in records if r["action"] == "chart.read")
    assert (chart["actor"], chart["actor_org"], chart["service"]) == (
        "coder-ava", "northstar", "coding",
    )  # fmt: skip
    assert chart["route"] == "GET /v1/tasks/{task_id}"
    x12 = next(r for r in records if r["action"] == "claim.x12.read")
    assert x12["route"] == "GET /v1/claims/{claim_id}/x12" and x12["claim_id"]
    assert {r["seq"] for r in records} <= {r["seq"] for r in hospital_view}
    text = json.dumps(records)
    assert not Search(marked.markers).hits(text.encode())  # records never carry PHI
    default = platform.client.get(
        f"{platform.endpoints.intake}/v1/admin/access-log",
        headers={"Authorization": "Bearer local-admin-token"},
    )
    assert default.status_code == 401


async def _every_message(stack: Stack, prefix: str) -> dict[str, list[bytes]]:
    """Every record of every topic of this platform, as raw bytes (key, value, headers)."""
    lister = AIOKafkaConsumer(bootstrap_servers=stack.kafka, **stack.kafka_auth())
    await lister.start()
    try:
        names = sorted(t for t in await lister.topics() if t.startswith(prefix))
    finally:
        await lister.stop()
    reader = AIOKafkaConsumer(
        *names,
        bootstrap_servers=stack.kafka,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a partition assigned after the seek starts there too
        **stack.kafka_auth(),
    )
    await reader.start()
    try:
        async with asyncio.timeout(30):  # the subscription's metadata arrives after the start
            while any(not reader.partitions_for_topic(t) for t in names):
                await asyncio.sleep(0.1)
        parts = [TopicPartition(t, p) for t in names for p in reader.partitions_for_topic(t)]
        async with asyncio.timeout(30):  # and the partitions are assigned after that
            while not set(parts) <= reader.assignment():
                await asyncio.sleep(0.1)
        await reader.seek_to_beginning(*parts)
        ends = await reader.end_offsets(parts)
        found: dict[str, list[bytes]] = {t: [] for t in names}

        async def behind() -> bool:
            return any([await reader.position(tp) < ends[tp] for tp in parts])

        async with asyncio.timeout(30):
            while await behind():
                for tp, records in (await reader.getmany(timeout_ms=500)).items():
                    for r in records:
                        headers = b"".join(k.encode() + v for k, v in r.headers)
                        found[tp.topic].append((r.key or b"") + (r.value or b"") + headers)
        return found
    finally:
        await reader.stop()


def _every_row(url: str) -> Iterator[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    yield f"{table}: {tuple(row)!r}"
    finally:
        engine.dispose()


def _wait_for_dead_letters(stack: Stack, dlq: str, prefix: str, count: int) -> list[bytes]:
    deadline = time.monotonic() + 60
    while True:
        entries = asyncio.run(_every_message(stack, prefix)).get(dlq, [])
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(1)


def test_no_phi_marker_is_left_in_plaintext_on_the_wire_on_disk_in_logs_or_in_history(
    services: Services, stack: Stack, marked: Marked
) -> None:
    view, search = marked.view, Search(marked.markers)
    prefix = services.env["CHARTFLOW_NAMESPACE_PREFIX"]
    key, control = view["encounter_key"], view["external_id"]  # plaintext by design
    # The PHI did go through: the admin's 837 shows the patient and the subscriber.
    assert marked.markers["patient.last_name"].upper() in marked.x12  # X12 names: upper case
    assert marked.markers["coverage.member_id"] in marked.x12
    assert marked.markers["subscriber.birth_date_x12"] in marked.x12
    dlq = _dead_letter_a_coded_encounter(services, stack, marked)
    dead = _wait_for_dead_letters(stack, dlq, prefix, count=2)  # intake's and claims' consumers
    assert len(dead) >= 2, "the poison message was not dead-lettered by both consumers"
    for service in SERVICES:  # their logs and databases are complete
        services.stop(service)
    leaks: dict[str, set[str]] = {}
    controls: dict[str, bool] = {}

    # 1. The wire: every record of every topic of this platform, DLQs included.
    messages = asyncio.run(_every_message(stack, prefix))
    written = {t.removeprefix(prefix) for t, records in messages.items() if records}
    assert written >= {
        topics.ENCOUNTERS_RECEIVED, topics.CODING_TASKS, topics.CODING_EVENTS,
        topics.ENCOUNTERS_CODED, topics.CLAIMS_STATUS, topics.ACCESS_LOG,
        topics.PHYSICIAN_QUERIES, topics.QUERY_ANSWERS,
        topics.dead_letter(topics.ENCOUNTERS_CODED),
    }, written  # fmt: skip
    for topic, records in messages.items():
        if hits := search.hits(b"\n".join(records)):
            leaks[f"topic {topic}"] = hits
    controls["topics"] = any(control.encode() in r for rs in messages.values() for r in rs)
    # 2. The broker's segment files.
    kafka_data = STACK_VAR / "kafka" / "data"
    leaks.update(search.in_files(kafka_data))
    controls["kafka segments"] = holds(kafka_data, control)
    # 3 and 4. Every file of the platform's var/ (its logs, SQLite with WAL and SHM), the
    # stack's logs, and the PostgreSQL cluster's data directory.
    for root in (services.var, STACK_VAR / "log", STACK_VAR / "postgres" / "data"):
        leaks.update(search.in_files(root))
    controls["service logs"] = holds(services.var, key) and any(
        key in (services.var / f"{s}.log").read_text() for s in SERVICES
    )
    databases = STACK_VAR / "postgres" / "data" if stack.database_url else services.var / "data"
    controls["database files"] = holds(databases, control)
    # 5. Every row of every service database, through SQL.
    rows = []
    for service in SERVICES:
        settings = ChartflowSettings(
            service_name=service,
            database_url=stack.database_url,
            chartflow_var=services.var,
            chartflow_namespace_prefix=prefix,
        )
        rows += list(_every_row(settings.service_database_url()))
    if hits := search.hits("\n".join(rows).encode()):
        leaks["database rows"] = hits
    controls["database rows"] = any(control in r for r in rows)
    # 6. Temporal: the workflow's history, and the server's database.
    history = asyncio.run(_history(stack, workflow_id(key, prefix)))
    if hits := search.hits(history.encode()):
        leaks["temporal history"] = hits
    leaks.update(search.in_files(STACK_VAR / "temporal"))
    controls["temporal history"] = key in history

    assert leaks == {}, f"PHI markers in plaintext: {leaks}"
    assert all(controls.values()), f"places searched that did not hold the encounter: {controls}"


async def _history(stack: Stack, workflow: str) -> str:
    client = await Client.connect(stack.temporal)
    history = await client.get_workflow_handle(workflow).fetch_history()
    return history.to_json()
