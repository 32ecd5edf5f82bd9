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
from sqlmodel import select

from services.coding.app import create_app as coding_app
from services.intake.app import create_app as intake_app
from shared.events.assignment import CodingChart
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings
from tests.coding_tasks import deliver_task
from tests.conftest import ADMIN_TOKEN

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ENCOUNTER = DEMO["encounters"][0]["encounter"]


def _settings(service: str, tmp_path: Path) -> ChartflowSettings:
    # Nothing listens on port 1: no event leaves these tests.
    return ChartflowSettings(
        service_name=service,
        kafka_bootstrap_servers="127.0.0.1:1",
        database_url=None,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
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
    assert not_json.status_code == 400
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


@pytest.fixture
def coding(tmp_path: Path) -> Iterator[TestClient]:
    app = coding_app(_settings("coding", tmp_path), frozenset({"api"}))
    with TestClient(app) as client:
        for coder in ("ava", "ben"):
            _coder_key(client, coder)
        deliver_task(app, "task-1")
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
        deliver_task(app, "early")

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
        "/v1/audits",
    }
    for path in called:
        assert any(route.startswith(path.rstrip("/")) for route in routes), path


def _with(changes: dict[str, object], **patient: object) -> dict[str, object]:
    return {**ENCOUNTER, **changes, "patient": {**ENCOUNTER["patient"], **patient}}


@pytest.mark.parametrize(
    ("encounter", "field"),
    [
        (_with({"charges": [{"code": "99214", "charge": "185.00", "units": 10**27}]}),
         "charges.0.units"),
        (_with({"charges": [{"code": "99214", "charge": "1e30"}]}), "charges.0.charge"),
        (_with({"service_date": "2099-01-01"}), "service_date"),
        (_with({"service_date": "0001-01-01"}), "service_date"),
        (_with({"service_date": "1960-01-01"}), "patient.birth_date"),
        (_with({}, birth_date="1850-01-01"), "patient.birth_date"),
        (_with({"encounter_class": "inpatient", "discharge_date": "2026-09-01"}),
         "discharge_date"),
        (_with({}, last_name="DOE~NM1*IL*1*EVIL"), "patient.last_name"),
        (_with({}, first_name="   "), "patient.first_name"),
        (_with({"documents": [{"kind": "note", "text": "a\x00b"}]}), "documents.0.text"),
    ],
)  # fmt: skip
def test_intake_refuses_what_could_never_be_billed_naming_the_field(
    intake: TestClient, encounter: dict[str, object], field: str
) -> None:
    answer = intake.post("/v1/encounters", json=encounter, headers=_hospital(intake, "mercy"))

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field
    assert intake.get("/v1/encounters", headers=_hospital(intake, "mercy")).json() == []


def test_names_a_claim_can_carry_are_accepted(intake: TestClient) -> None:
    for last_name in ("Muñoz", "O'Brien", "Nguyễn"):
        encounter = _with({"external_id": f"N-{len(last_name)}"}, last_name=last_name)

        answer = intake.post("/v1/encounters", json=encounter, headers=_hospital(intake, "muni"))

        assert answer.status_code == 202, answer.json()


def _store_task(app: FastAPI, task_id: str, chart: dict[str, object]) -> None:
    """A task as an earlier build stored it, bypassing today's bounds."""
    from services.coding.db import CodingTask

    task = CodingTask(
        id=task_id, encounter_key=f"mercy:{task_id}", hospital_id="mercy", vendor_id="northstar",
        pool_id="pro", coder_id="ava", status="open",
        due_at=datetime.now(UTC) + timedelta(days=1), chart=json.dumps(chart),
    )  # fmt: skip
    app.state.runtime.db.run_sync(lambda s: s.add(task))


def test_codes_the_encounter_cannot_carry_are_a_422_with_findings_never_a_500(
    coding: TestClient,
) -> None:
    ava = _coder_key(coding, "ava")
    codes = DEMO["encounters"][0]["coding"]
    chart = CodingChart.of(EncounterDocument.model_validate(ENCOUNTER)).model_dump(mode="json")
    _store_task(coding.app, "aged", {**chart, "patient": {"sex": "F", "age": 161}})  # type: ignore[arg-type]
    priced = {**chart, "charges": [{"code": "99214", "charge": "9999999.99", "units": 1}]}
    _store_task(coding.app, "priced", priced)  # type: ignore[arg-type]
    huge_units = {**codes, "procedures": [{**codes["procedures"][0], "units": 10**30}]}
    two_units = {**codes, "procedures": [{**codes["procedures"][0], "units": 2}]}

    too_many = coding.post("/v1/tasks/task-1/codes", json=huge_units, headers=ava)
    aged = coding.post("/v1/tasks/aged/codes", json=codes, headers=ava)
    over_a_line = coding.post("/v1/tasks/priced/codes", json=two_units, headers=ava)

    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "procedures.0.units"
    assert aged.status_code == 422
    assert [f["rule"] for f in aged.json()["findings"]] == ["ENC_NOT_CODABLE"]
    assert "patient.age" in aged.json()["findings"][0]["message"]
    assert "161" not in aged.json()["findings"][0]["message"]
    assert over_a_line.status_code == 422
    assert "ENC_AMOUNT_TOO_LARGE" in {f["rule"] for f in over_a_line.json()["findings"]}


def test_a_coder_returns_a_task_that_cannot_be_coded_and_it_leaves_the_worklist(
    coding: TestClient,
) -> None:
    from services.coding.db import CodingTask
    from shared.outbox import OutboxEvent

    ava, ben = _coder_key(coding, "ava"), _coder_key(coding, "ben")
    reason = {"reason": "documentation_incomplete", "note": "operative note missing"}

    not_theirs = coding.post("/v1/tasks/task-1/return", json=reason, headers=ben)
    unknown_reason = coding.post("/v1/tasks/task-1/return", json={"reason": "bored"}, headers=ava)
    returned = coding.post("/v1/tasks/task-1/return", json=reason, headers=ava)
    again = coding.post("/v1/tasks/task-1/return", json=reason, headers=ava)
    then_coded = coding.post(
        "/v1/tasks/task-1/codes", json=DEMO["encounters"][0]["coding"], headers=ava
    )

    assert not_theirs.status_code == 404
    assert unknown_reason.status_code == 422
    assert unknown_reason.json()["errors"][0]["field"] == "reason"
    assert returned.status_code == 202
    assert returned.json()["status"] == "returned"
    assert (again.status_code, then_coded.status_code) == (409, 409)
    assert coding.get("/v1/worklist", headers=ava).json() == []
    db = coding.app.state.runtime.db  # type: ignore[attr-defined]
    events = db.run_sync(lambda s: [e.event_id for e in s.exec(select(OutboxEvent))])
    assert events == ["returned-task-1"]
    assert db.run_sync(lambda s: s.get(CodingTask, "task-1").status) == "returned"


def test_the_openapi_names_the_auth_schemes_and_every_problem_answer(
    intake: TestClient, coding: TestClient
) -> None:
    intake_api, coding_api = intake.get("/openapi.json").json(), coding.get("/openapi.json").json()
    push = intake_api["paths"]["/v1/encounters"]["post"]
    submit = coding_api["paths"]["/v1/tasks/{task_id}/codes"]["post"]

    assert set(intake_api["components"]["securitySchemes"]) == {"HospitalApiKey", "AdminBearer"}
    assert set(coding_api["components"]["securitySchemes"]) == {"CoderApiKey", "AdminBearer"}
    assert push["security"] == [{"HospitalApiKey": []}]
    assert {"400", "401", "409", "413", "422"} <= set(push["responses"])
    assert {"401", "404", "409", "422"} <= set(submit["responses"])
    for code in ("401", "409", "422"):
        assert list(push["responses"][code]["content"]) == ["application/problem+json"]
    units = coding_api["components"]["schemas"]["ProcedureCode"]["properties"]["units"]
    assert units["maximum"] == 9999  # integrators read the bounds in the schema
