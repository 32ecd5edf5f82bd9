"""Coding's side of a coding-caused denial: the rework task on its coder's worklist with the
payer's reason, and the denial rates per coder and pool."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.coding import handlers
from services.coding.app import create_app as coding_app
from shared.events.assignment import CodingChart, CodingTaskCreated, ReworkDetails, ReworkReason
from shared.events.claims import TriagedLine
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import Envelope
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings
from tests.coding_tasks import ENCOUNTER, ENCOUNTER_KEY, deliver_task
from tests.conftest import ADMIN_TOKEN

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CODES = DEMO["encounters"][0]["coding"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient]]:
    settings = ChartflowSettings(
        service_name="coding",
        kafka_bootstrap_servers="127.0.0.1:1",
        database_url=None,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
    )
    coding = coding_app(settings, frozenset({"api"}))
    with TestClient(coding) as client:
        yield coding, client


def _member(client: TestClient, member: str, role: str = "coder", pools: str = "pro") -> dict:
    body = {"id": member, "vendor_id": "northstar", "name": member, "role": role,
            "pools": [pools], "credentials": ["CPC"]}  # fmt: skip
    answer = client.post("/v1/admin/coders", json=body, headers=ADMIN)
    return {"X-API-Key": answer.json()["api_key"]}


def _rework(
    app: FastAPI, task_id: str, coder_id: str, denied_task: str, pool: str = "pro", times: int = 1
) -> None:
    created = CodingTaskCreated(
        task_id=task_id,
        encounter_key=ENCOUNTER_KEY,
        hospital_id="mercy",
        vendor_id="northstar",
        pool_id=pool,
        due_at=datetime.now(UTC) + timedelta(hours=2),
        chart=CodingChart.of(EncounterDocument.model_validate(ENCOUNTER)),
        coder_id=coder_id,
        rework=ReworkDetails(
            claim_id="claim-1",
            claim_version=1,
            denied_task_id=denied_task,
            denied_coder_id="ava",
            denied_pool_id="pro",
            reasons=[
                ReworkReason(
                    source="835",
                    code="CO-11",
                    meaning="The diagnosis is inconsistent with the procedure",
                    lines=[TriagedLine(line_id="CF1-2", number=2, procedure_code="20610")],
                )
            ],
            diagnoses=[DiagnosisCode(code="M25.561")],
            procedures=[ProcedureCode(code="20610", modifiers=["RT"], dx_pointers=[1])],
        ),
    )
    envelope = Envelope.wrap(created, source="test", subject=ENCOUNTER_KEY, tenant="mercy")
    for _ in range(times):  # a redelivered event is the same envelope
        app.state.runtime.db.run_sync(lambda s: handlers.take_task(s, envelope))


def test_the_rework_goes_to_the_coder_who_coded_it_with_the_payers_reason(app) -> None:
    coding, client = app
    ava, ben = _member(client, "ava"), _member(client, "ben")
    nina = _member(client, "nina", role="vendor_manager")
    deliver_task(coding, "task-1")  # to ava
    deliver_task(coding, "task-2")  # to ben
    assert client.post("/v1/tasks/task-1/codes", json=CODES, headers=ava).status_code == 202
    assert client.post("/v1/tasks/task-2/codes", json=CODES, headers=ben).status_code == 202
    deliver_task(coding, "task-3")  # to ava (ties go to the first id): ben is least loaded now

    _rework(coding, "rework-1", "ava", denied_task="task-1")

    worklist = client.get("/v1/worklist", headers=ava).json()
    [rework] = [t for t in worklist if t["id"] == "rework-1"]
    assert rework["kind"] == "rework"
    assert rework["rework_reason"] == (
        "claim version 1: CO-11: The diagnosis is inconsistent with the procedure (line 2 20610)"
    )
    opened = client.get("/v1/tasks/rework-1", headers=ava).json()
    assert [d["code"] for d in opened["rework"]["diagnoses"]] == ["M25.561"]
    assert opened["rework"]["reasons"][0]["lines"][0]["number"] == 2
    assert client.get("/v1/worklist", headers=ben).json() == []
    listed = client.get("/v1/vendor/tasks", headers=nina, params={"coder_id": "ava"}).json()
    assert {t["id"]: t["kind"] for t in listed} == {
        "task-1": "coding",
        "task-3": "coding",
        "rework-1": "rework",
    }


def test_a_named_coder_no_longer_in_the_pool_leaves_the_rework_to_the_pool(app) -> None:
    coding, client = app
    _member(client, "ava", pools="other")
    ben = _member(client, "ben")

    _rework(coding, "rework-1", "ava", denied_task="task-1")

    assert [t["id"] for t in client.get("/v1/worklist", headers=ben).json()] == ["rework-1"]


def test_denial_rates_per_coder_and_pool_for_the_vendor_and_the_coder(app) -> None:
    coding, client = app
    ava, ben = _member(client, "ava"), _member(client, "ben")
    nina = _member(client, "nina", role="vendor_manager")
    olga = _member(client, "olga", role="auditor")
    deliver_task(coding, "task-1")
    deliver_task(coding, "task-2")
    client.post("/v1/tasks/task-1/codes", json=CODES, headers=ava)
    client.post("/v1/tasks/task-2/codes", json=CODES, headers=ben)
    _rework(coding, "rework-1", "ava", denied_task="task-1", times=2)  # counted once

    vendor = client.get("/v1/vendor/denial-rates", headers=nina).json()
    coders = {r["id"]: (r["billed"], r["coding_denials"], r["rate"]) for r in vendor["coders"]}
    assert coders == {"ava": (1, 1, 1.0), "ben": (1, 0, 0.0)}
    assert [(r["id"], r["rate"]) for r in vendor["pools"]] == [("pro", 0.5)]
    assert client.get("/v1/vendor/denial-rates", headers=olga).json() == vendor
    mine = client.get("/v1/denial-rate", headers=ben).json()
    assert [(r["id"], r["coding_denials"]) for r in mine["coders"]] == [("ben", 0)]
    assert client.get("/v1/vendor/denial-rates", headers=ava).status_code == 403
    later = datetime.now(UTC) + timedelta(minutes=5)
    empty = client.get("/v1/vendor/denial-rates", headers=nina, params={"since": later.isoformat()})
    assert empty.json()["coders"] == []
