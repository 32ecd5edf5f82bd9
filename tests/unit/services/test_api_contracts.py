"""What hospitals and coders see at the HTTP edge: clear errors, tenancy, nothing lost."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.coding import handlers as coding_handlers
from services.coding.app import create_app as coding_app
from services.intake.app import create_app as intake_app
from shared.events.assignment import CodingChart, CodingTaskCreated
from shared.events.envelope import Envelope
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": "Bearer test-admin"}
ENCOUNTER = DEMO["encounters"][0]["encounter"]


def _settings(service: str, tmp_path: Path) -> ChartflowSettings:
    # Nothing listens on port 1: no event leaves these tests.
    return ChartflowSettings(
        service_name=service,
        kafka_bootstrap_servers="127.0.0.1:1",
        database_url=None,
        chartflow_var=tmp_path,
        admin_token="test-admin",
    )


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(intake_app(_settings("intake", tmp_path), frozenset({"api"}))) as client:
        yield client


def _hospital(client: TestClient, hospital_id: str) -> dict[str, str]:
    body = {**DEMO["hospital"], "id": hospital_id}
    key = client.post("/v1/admin/hospitals", json=body, headers=ADMIN).json()["api_key"]
    return {"X-API-Key": key}


def test_intake_rejects_bad_input_with_problem_details_naming_the_field(
    intake: TestClient,
) -> None:
    hospital = _hospital(intake, "mercy")
    broken = {**ENCOUNTER, "patient": {**ENCOUNTER["patient"], "birth_date": "12/04/1968"}}

    unauthenticated = intake.post("/v1/encounters", json=ENCOUNTER)
    invalid = intake.post("/v1/encounters", json=broken, headers=hospital)
    oversize = intake.post(
        "/v1/encounters",
        content=b"{" + b" " * 2_100_000 + b"}",
        headers={**hospital, "Content-Type": "application/json"},
    )
    chunked = intake.post(
        "/v1/encounters",
        content=(b" " * 100_000 for _ in range(25)),  # streamed without a Content-Length
        headers={**hospital, "Content-Type": "application/json"},
    )
    not_json = intake.post(
        "/v1/encounters",
        content=b"{not json",
        headers={**hospital, "Content-Type": "application/json"},
    )
    not_admin = intake.post("/v1/admin/hospitals", json=DEMO["hospital"])
    odd_token = intake.post(
        "/v1/admin/hospitals", json=DEMO["hospital"], headers={"Authorization": b"Bearer \xe9"}
    )
    no_route = intake.get("/v1/nowhere")

    assert unauthenticated.status_code == 401
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert invalid.json()["detail"].startswith("patient.birth_date:")
    assert oversize.status_code == 413
    assert chunked.status_code == 413
    assert not_json.status_code == 422
    assert not_json.json()["detail"].startswith("body:")
    assert not_admin.status_code == 401
    assert odd_token.status_code == 401
    assert no_route.status_code == 404
    assert no_route.headers["content-type"] == "application/problem+json"
    assert intake.get("/v1/encounters", headers=hospital).json() == []


def test_a_hospital_sees_only_its_own_encounters(intake: TestClient) -> None:
    mercy, county = _hospital(intake, "mercy"), _hospital(intake, "county")
    pushed = intake.post("/v1/encounters", json=ENCOUNTER, headers=mercy).json()

    assert intake.get(f"/v1/encounters/{pushed['id']}", headers=county).status_code == 404
    assert intake.get("/v1/encounters", headers=county).json() == []
    assert intake.get(f"/v1/encounters/{pushed['id']}", headers=mercy).json()["status"] == (
        "received"
    )


def test_resending_an_encounter_with_other_content_is_a_conflict(intake: TestClient) -> None:
    mercy = _hospital(intake, "mercy")
    first = intake.post("/v1/encounters", json=ENCOUNTER, headers=mercy)
    changed = {**ENCOUNTER, "service_date": "2026-09-15"}

    again = intake.post("/v1/encounters", json=ENCOUNTER, headers=mercy)
    conflict = intake.post("/v1/encounters", json=changed, headers=mercy)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert conflict.status_code == 409
    assert "already received" in conflict.json()["detail"]


def _deliver_task(app: FastAPI, task_id: str) -> None:
    """A coding task for pool "pro", as the `coding.tasks` consumer receives it."""
    created = CodingTaskCreated(
        task_id=task_id,
        encounter_key="mercy:DEMO-OV-1001",
        hospital_id="mercy",
        vendor_id="northstar",
        pool_id="pro",
        due_at=datetime.now(UTC) + timedelta(days=1),
        chart=CodingChart.of(EncounterDocument.model_validate(ENCOUNTER)),
    )
    envelope = Envelope.wrap(created, source="test", subject="k", tenant="mercy")
    app.state.runtime.db.run_sync(lambda s: coding_handlers.take_task(s, envelope))


@pytest.fixture
def coding(tmp_path: Path) -> Iterator[TestClient]:
    app = coding_app(_settings("coding", tmp_path), frozenset({"api"}))
    with TestClient(app) as client:
        for coder in ("ava", "ben"):
            _coder_key(client, coder)
        _deliver_task(app, "task-1")
        yield client


def _coder_key(client: TestClient, coder: str) -> dict[str, str]:
    body = {"id": coder, "vendor_id": "northstar", "name": coder,
            "pools": ["pro"], "credentials": ["CPC"]}  # fmt: skip
    answer = client.post("/v1/admin/coders", json=body, headers=ADMIN)
    return {"X-API-Key": answer.json()["api_key"]}


def test_coders_see_only_their_own_tasks_and_every_chart_read_is_recorded(
    coding: TestClient,
) -> None:
    ava, ben = _coder_key(coding, "ava"), _coder_key(coding, "ben")
    # The least-loaded coder got the task: "ava" (ties go to the first id).

    assert [t["id"] for t in coding.get("/v1/worklist", headers=ava).json()] == ["task-1"]
    assert coding.get("/v1/worklist", headers=ben).json() == []
    assert coding.get("/v1/tasks/task-1", headers=ben).status_code == 404
    chart = coding.get("/v1/tasks/task-1", headers=ava).json()["chart"]
    assert chart["patient"] == {"sex": "F", "age": 58}
    assert "Maria" not in json.dumps(chart)


def test_codes_with_errors_are_refused_with_the_findings_and_nothing_is_submitted(
    coding: TestClient,
) -> None:
    ava = _coder_key(coding, "ava")
    # E11 is a category, N40.0 a male-only code on a female patient, pointer 3 points nowhere.
    bad = {"diagnoses": [{"code": "E11"}, {"code": "N40.0"}],
           "procedures": [{"code": "99214", "dx_pointers": [3]}]}  # fmt: skip

    refused = coding.post("/v1/tasks/task-1/codes", json=bad, headers=ava)
    good = coding.post("/v1/tasks/task-1/codes", json=DEMO["encounters"][0]["coding"], headers=ava)
    again = coding.post("/v1/tasks/task-1/codes", json=DEMO["encounters"][0]["coding"], headers=ava)

    assert refused.status_code == 422
    rules = {f["rule"] for f in refused.json()["findings"]}
    assert {"ICD_NOT_BILLABLE", "ICD_SEX_CONFLICT", "PROC_DX_POINTER_INVALID"} <= rules
    assert good.status_code == 202
    assert good.json()["status"] == "submitted"
    assert again.status_code == 409
    assert coding.get("/v1/worklist", headers=ava).json() == []


def test_a_task_that_arrived_before_any_coder_reaches_the_first_coder_of_its_pool(
    tmp_path: Path,
) -> None:
    app = coding_app(_settings("coding", tmp_path), frozenset({"api"}))
    with TestClient(app) as client:
        _deliver_task(app, "early")

        ava = _coder_key(client, "ava")

        assert [t["id"] for t in client.get("/v1/worklist", headers=ava).json()] == ["early"]


def test_ops_read_request_counts_and_the_outbox_backlog_on_metrics(intake: TestClient) -> None:
    mercy = _hospital(intake, "mercy")
    accepted = 'chartflow_http_requests_total{method="POST",route="/v1/encounters",status="202"}'

    def metric(name: str) -> float:
        lines = intake.get("/metrics").text.splitlines()
        return next((float(ln.split()[-1]) for ln in lines if ln.startswith(name + " ")), 0.0)

    before = metric(accepted)
    intake.post("/v1/encounters", json=ENCOUNTER, headers=mercy)  # Kafka is unreachable here

    assert metric(accepted) == before + 1
    assert metric("chartflow_outbox_pending") == 1


def test_the_workbench_page_calls_only_routes_the_coding_api_has(coding: TestClient) -> None:
    page = coding.get("/workbench")
    routes = set(coding.app.openapi()["paths"])  # type: ignore[attr-defined]

    called = set(re.findall(r"[\"`](/v1/[a-z/]+)", page.text))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert called == {
        "/v1/worklist",
        "/v1/tasks/",
        "/v1/codes/search",
        "/v1/queries",
        "/v1/queries/",
    }
    for path in called:
        assert any(route.startswith(path.rstrip("/")) for route in routes), path
