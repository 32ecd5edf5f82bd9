"""Pre-bill audits at coding's HTTP edge: the auditor re-codes blind, reconciles each
difference with a rationale, the final codes go to assignment, and the coder reads the feedback
and a scorecard whose figures are computed here by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from services.coding import audits, handlers, scorecards
from services.coding.app import create_app
from shared.events.assignment import (
    AuditTaskCreated,
    CodingChart,
    CodingTaskCreated,
    ReworkDetails,
    ReworkReason,
)
from shared.events.coding import AuditCompleted, HospitalScorecardPublished
from shared.events.envelope import Envelope
from shared.events.intake import EncounterDocument
from shared.outbox import OutboxEvent
from shared.settings import ChartflowSettings
from tests.conftest import ADMIN_TOKEN

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CODES = DEMO["encounters"][0]["coding"]  # E11.9, I10, M17.11; 99214-25, 20610-RT
# The auditor reads hypertensive heart disease where the coder put essential hypertension.
RECODE = {**CODES, "diagnoses": [{"code": "E11.9"}, {"code": "I11.9"}, {"code": "M17.11"}]}
STAFF = {
    "coder-ava": ("northstar", "coder"),
    "coder-ben": ("northstar", "coder"),
    "auditor-olga": ("northstar", "auditor"),
    "auditor-abe": ("eastfield", "auditor"),
    "manager-nina": ("northstar", "vendor_manager"),
    "manager-mia": ("eastfield", "vendor_manager"),
}


@pytest.fixture
def coding(tmp_path: Path) -> Iterator[TestClient]:
    settings = ChartflowSettings(
        service_name="coding",
        kafka_bootstrap_servers="127.0.0.1:1",  # nothing leaves: events stay in the outbox
        database_url=None,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
    )
    with TestClient(create_app(settings, frozenset({"api"}))) as client:
        yield client


def _keys(client: TestClient) -> dict[str, dict[str, str]]:
    keys = {}
    for person, (vendor, role) in STAFF.items():
        body = {"id": person, "vendor_id": vendor, "name": person, "role": role,
                "pools": ["pro"], "credentials": ["CPC"]}  # fmt: skip
        answer = client.post("/v1/admin/coders", json=body, headers=ADMIN).json()
        keys[person] = {"X-API-Key": answer["api_key"]}
    return keys


def _deliver(app: FastAPI, event: Any) -> None:
    envelope = Envelope.wrap(event, source="assignment", subject=event.encounter_key,
                             tenant="mercy")  # fmt: skip
    take = handlers.take_task if isinstance(event, CodingTaskCreated) else audits.take_audit
    app.state.runtime.db.run_sync(lambda s: take(s, envelope))


def _coded_and_sampled(client: TestClient, keys: dict[str, dict[str, str]], **audit: Any) -> None:
    """Ava codes task-1; it is sampled for audit audit-1."""
    due = datetime.now(UTC) + timedelta(days=1)
    chart = CodingChart.of(EncounterDocument.model_validate(DEMO["encounters"][0]["encounter"]))
    _deliver(client.app, CodingTaskCreated(  # type: ignore[arg-type]
        task_id="task-1", encounter_key="mercy:ENC-1", hospital_id="mercy",
        vendor_id="northstar", pool_id="pro", due_at=due, chart=chart,
    ))  # fmt: skip
    assert client.post("/v1/tasks/task-1/codes", json=CODES, headers=keys["coder-ava"]).is_success
    _deliver(client.app, AuditTaskCreated(  # type: ignore[arg-type]
        audit_id="audit-1", encounter_key="mercy:ENC-1", hospital_id="mercy", task_id="task-1",
        coder_id="coder-ava", vendor_id="northstar", pool_id="pro", due_at=due,
        rule="new_coder", reason="0 of 30 audits done", credentials=["CPC", "CCS-P"], **audit,
    ))  # fmt: skip


def _outbox(app: FastAPI, kind: type[Any]) -> list[Any]:
    rows = app.state.runtime.db.run_sync(lambda s: list(s.exec(select(OutboxEvent))))
    envelopes = [Envelope.model_validate_json(r.payload) for r in rows]
    return [e.payload(kind) for e in envelopes if e.type == kind.event_type]


def test_the_auditor_recodes_blind_reconciles_and_the_final_codes_go_out(
    coding: TestClient,
) -> None:
    keys = _keys(coding)
    _coded_and_sampled(coding, keys)
    olga = keys["auditor-olga"]

    [listed] = coding.get("/v1/audit-worklist", headers=olga).json()
    blind = coding.get("/v1/audits/audit-1", headers=olga)
    peek = coding.get("/v1/vendor/tasks", headers=olga).json()

    assert (listed["id"], listed["rule"], listed["status"]) == ("audit-1", "new_coder", "recoding")
    assert "osteoarthritis" in json.dumps(blind.json()["chart"])
    assert "reconciliation" not in blind.json()
    assert "I10" not in blind.text and "E11.9" not in blind.text  # the coder's codes are hidden
    assert [t["codes"] for t in peek] == [None]  # ... from the vendor's task list too
    assert coding.get("/v1/audit-worklist", headers=keys["auditor-abe"]).json() == []
    assert coding.get("/v1/audits/audit-1", headers=keys["auditor-abe"]).status_code == 404
    assert coding.get("/v1/audits/audit-1", headers=keys["coder-ava"]).status_code == 403

    recoded = coding.post("/v1/audits/audit-1/codes", json=RECODE, headers=olga)

    assert recoded.status_code == 200, recoded.text
    side_by_side = recoded.json()["reconciliation"]
    assert [d["code"] for d in side_by_side["coder"]["diagnoses"]] == ["E11.9", "I10", "M17.11"]
    [difference] = side_by_side["differences"]
    assert (difference["id"], difference["kind"]) == ("dx-changed-2-2", "changed")
    assert difference["description"] == "I10 changed to I11.9"

    incomplete = coding.post("/v1/audits/audit-1/reconciliation", json={}, headers=olga)
    why = "Heart disease is documented with the hypertension: I11 applies."
    ruling = {"difference_id": "dx-changed-2-2", "decision": "auditor", "rationale": why}
    done = coding.post(
        "/v1/audits/audit-1/reconciliation", json={"decisions": [ruling]}, headers=olga
    )
    again = coding.post(
        "/v1/audits/audit-1/reconciliation", json={"decisions": [ruling]}, headers=olga
    )

    assert incomplete.status_code == 422
    assert incomplete.json()["detail"] == "decisions: no decision for dx-changed-2-2"
    assert done.status_code == 200, done.text
    assert again.status_code == 409
    # 4 codes kept (I10's place aside), 1 changed: 4 / (4 + 1).
    assert done.json()["reconciliation"]["accuracy_percent"] == 80.0
    [completed] = _outbox(coding.app, AuditCompleted)
    assert [d.code for d in completed.diagnoses] == ["E11.9", "I11.9", "M17.11"]
    assert [p.code for p in completed.procedures] == ["99214", "20610"]
    assert (completed.coder_id, completed.matched, completed.errors) == ("coder-ava", 4, 1.0)
    assert coding.get("/v1/audit-worklist", headers=olga).json() == []


def test_the_coder_reads_the_feedback_and_a_scorecard_nobody_else_may(
    coding: TestClient,
) -> None:
    keys = _keys(coding)
    _coded_and_sampled(coding, keys)
    olga = keys["auditor-olga"]
    coding.post("/v1/audits/audit-1/codes", json=RECODE, headers=olga)
    ruling = {"difference_id": "dx-changed-2-2", "decision": "auditor", "rationale": "I11 applies."}
    coding.post("/v1/audits/audit-1/reconciliation", json={"decisions": [ruling]}, headers=olga)

    [feedback] = coding.get("/v1/audits", headers=keys["coder-ava"]).json()
    card = coding.get("/v1/scorecards", params={"by": "coder"}, headers=keys["coder-ava"]).json()

    [difference] = feedback["differences"]
    assert (difference["description"], difference["decision"], difference["rationale"]) == (
        "I10 changed to I11.9", "auditor", "I11 applies."
    )  # fmt: skip
    assert feedback["final"]["diagnoses"][1] == {"code": "I11.9"}
    [ava] = card["scorecards"]
    assert (ava["group"], ava["volume"], ava["audited"]) == ("coder-ava", 1, 1)
    assert ava["accuracy_percent"] == 80.0  # 4 / 5
    assert ava["diagnoses_accuracy_percent"] == round(100 * 2 / 3, 2)
    assert ava["procedures_accuracy_percent"] == 100.0
    assert ava["record_accuracy_percent"] == 0.0
    assert ava["differences"]["changed"] == 1
    # Ben, another coder of the same vendor: not Ava's audits, not her scorecard.
    ben = keys["coder-ben"]
    assert (
        coding.get("/v1/audits", params={"coder_id": "coder-ava"}, headers=ben).status_code == 403
    )
    assert coding.get("/v1/audits", headers=ben).json() == []
    assert (
        coding.get("/v1/scorecards", params={"coder_id": "coder-ava"}, headers=ben).status_code
        == 403
    )
    assert coding.get("/v1/scorecards", headers=ben).json()["scorecards"] == []
    # Her manager sees her; another vendor's manager sees nothing of hers.
    nina, mia = keys["manager-nina"], keys["manager-mia"]
    assert [a["coder_id"] for a in coding.get("/v1/audits", headers=nina).json()] == ["coder-ava"]
    assert coding.get("/v1/audits", headers=mia).json() == []
    assert coding.get("/v1/audits", params={"coder_id": "coder-ava"}, headers=mia).json() == []
    by_vendor = coding.get("/v1/scorecards", params={"by": "vendor"}, headers=mia).json()
    assert by_vendor["scorecards"] == []
    assert coding.get("/v1/scorecards", headers=olga).status_code == 403
    everything = coding.get("/v1/scorecards", params={"by": "hospital"}, headers=ADMIN).json()
    assert [(c["group"], c["volume"]) for c in everything["scorecards"]] == [("mercy", 1)]


def test_the_query_rate_counts_the_physician_queries_raised_on_the_coded_work(
    coding: TestClient,
) -> None:
    keys = _keys(coding)
    due = datetime.now(UTC) + timedelta(days=1)
    chart = CodingChart.of(EncounterDocument.model_validate(DEMO["encounters"][0]["encounter"]))
    note, quote = chart.documents[0].text, "right knee primary osteoarthritis"
    options = ["Primary", "Post-traumatic", "Other (please specify)", "Clinically undetermined"]
    query = {
        "question": "Please clarify the type of the right knee osteoarthritis.",
        "format": "multiple_choice",
        "options": options,
        "indicators": [{"document": 0, "start": note.index(quote), "quote": quote}],
    }
    for task in ("task-1", "task-2"):
        _deliver(coding.app, CodingTaskCreated(  # type: ignore[arg-type]
            task_id=task, encounter_key=f"mercy:{task}", hospital_id="mercy",
            vendor_id="northstar", pool_id="pro", due_at=due, chart=chart,
        ))  # fmt: skip
    owner = {
        t["id"]: keys[coder]
        for coder in ("coder-ava", "coder-ben")
        for t in coding.get("/v1/worklist", headers=keys[coder]).json()
    }
    raised = coding.post("/v1/tasks/task-1/queries", json=query, headers=owner["task-1"])
    assert raised.status_code == 201, raised.text
    withdraw = f"/v1/queries/{raised.json()['id']}/withdraw"
    assert coding.post(withdraw, headers=owner["task-1"]).is_success  # asked all the same
    for task in ("task-1", "task-2"):
        assert coding.post(f"/v1/tasks/{task}/codes", json=CODES, headers=owner[task]).is_success

    card = coding.get("/v1/scorecards", params={"by": "vendor"}, headers=keys["manager-nina"])

    [figures] = card.json()["scorecards"]
    assert (figures["volume"], figures["query_rate"]) == (2, 0.5)  # 1 query, 2 encounters


def test_the_coder_scorecard_counts_coding_denials_as_the_denial_rates_do(
    coding: TestClient,
) -> None:
    keys = _keys(coding)
    ava = keys["coder-ava"]
    _coded_and_sampled(coding, keys)  # Ava coded task-1 (its audit stays open)
    reason = ReworkReason(source="835", code="CO-11", meaning="inconsistent with the procedure")
    _deliver(coding.app, CodingTaskCreated(  # type: ignore[arg-type]
        task_id="task-2", encounter_key="mercy:ENC-1", hospital_id="mercy", vendor_id="northstar",
        pool_id="pro", due_at=datetime.now(UTC) + timedelta(days=1), coder_id="coder-ava",
        chart=CodingChart.of(EncounterDocument.model_validate(DEMO["encounters"][0]["encounter"])),
        rework=ReworkDetails(
            claim_id="claim-1", claim_version=1, denied_task_id="task-1",
            denied_coder_id="coder-ava", denied_pool_id="pro", reasons=[reason],
            diagnoses=CODES["diagnoses"], procedures=CODES["procedures"],
        ),
    ))  # fmt: skip

    def figures() -> tuple[tuple[int, int, float | None], tuple[int, int, float | None]]:
        [card] = coding.get("/v1/scorecards", headers=ava).json()["scorecards"]
        [rate] = coding.get("/v1/denial-rate", headers=ava).json()["coders"]
        return (card["volume"], card["coding_denials"], card["denial_rate"]), (
            rate["billed"], rate["coding_denials"], rate["rate"]
        )  # fmt: skip

    assert figures() == ((1, 1, 1.0), (1, 1, 1.0))  # the claim of her only codes was denied
    assert coding.post("/v1/tasks/task-2/codes", json=RECODE, headers=ava).is_success
    assert figures() == ((2, 1, 0.5), (2, 1, 0.5))  # her rework is billed and not denied


def test_another_vendors_auditor_when_the_contract_prefers_one(coding: TestClient) -> None:
    keys = _keys(coding)
    _coded_and_sampled(coding, keys, prefer_other_vendor=True)

    assert [
        a["id"] for a in coding.get("/v1/audit-worklist", headers=keys["auditor-abe"]).json()
    ] == ["audit-1"]
    assert coding.get("/v1/audit-worklist", headers=keys["auditor-olga"]).json() == []


def test_an_audit_waits_for_an_auditor_and_the_hospital_figures_are_published(
    coding: TestClient,
) -> None:
    ava = coding.post("/v1/admin/coders", headers=ADMIN, json={
        "id": "coder-ava", "vendor_id": "northstar", "name": "Ava", "pools": ["pro"],
        "credentials": ["CPC"]})  # fmt: skip
    keys = {"coder-ava": {"X-API-Key": ava.json()["api_key"]}}
    _coded_and_sampled(coding, keys)
    db = coding.app.state.runtime.db  # type: ignore[attr-defined]
    settings = coding.app.state.settings  # type: ignore[attr-defined]

    olga = coding.post("/v1/admin/coders", headers=ADMIN, json={
        "id": "auditor-olga", "vendor_id": "northstar", "name": "Olga", "pools": ["pro"],
        "credentials": ["CPC"], "role": "auditor"})  # fmt: skip
    published = db.run_sync(lambda s: scorecards.publish_marked(s, settings))

    worklist = coding.get("/v1/audit-worklist", headers={"X-API-Key": olga.json()["api_key"]})
    assert [a["id"] for a in worklist.json()] == ["audit-1"]
    assert published == 1  # Ava's submission changed mercy's month
    [snapshot] = _outbox(coding.app, HospitalScorecardPublished)
    assert (snapshot.hospital_id, [v.group for v in snapshot.vendors]) == ("mercy", ["northstar"])
    assert snapshot.vendors[0].volume == 1 and snapshot.vendors[0].audited == 0
    assert db.run_sync(lambda s: scorecards.publish_marked(s, settings)) == 0


def test_a_hospital_reads_the_newest_vendor_figures_of_its_own_months(tmp_path: Path) -> None:
    from services.intake import handlers as intake_handlers
    from services.intake.app import create_app as intake_app
    from shared.events.coding import ScorecardFigures

    settings = ChartflowSettings(
        service_name="intake", kafka_bootstrap_servers="127.0.0.1:1", database_url=None,
        chartflow_var=tmp_path, admin_token=ADMIN_TOKEN,
    )  # fmt: skip
    figures = ScorecardFigures(
        group="northstar", volume=3, audited=1, accuracy_percent=80.0,
        diagnoses_accuracy_percent=66.67, procedures_accuracy_percent=100.0,
        record_accuracy_percent=0.0, differences={"changed": 1}, turnaround_p50_seconds=60.0,
        turnaround_p90_seconds=90.0, query_rate=None,
    )  # fmt: skip
    now = datetime.now(UTC)

    def publish(volume: int, as_of: datetime) -> None:
        event = HospitalScorecardPublished(
            hospital_id="mercy", period="2026-09", as_of=as_of,
            vendors=[figures.model_copy(update={"volume": volume})],
        )  # fmt: skip
        envelope = Envelope.wrap(event, source="coding", subject="mercy", tenant="mercy")
        db.run_sync(lambda s: intake_handlers.store_scorecard(s, envelope))

    with TestClient(intake_app(settings, frozenset({"api"}))) as intake:
        db = intake.app.state.runtime.db  # type: ignore[attr-defined]
        keys = {}
        for hospital in ("mercy", "county"):
            body = {**DEMO["hospital"], "id": hospital}
            answer = intake.post("/v1/admin/hospitals", json=body, headers=ADMIN).json()
            keys[hospital] = {"X-API-Key": answer["api_key"]}
        publish(3, now)
        publish(2, now - timedelta(seconds=5))  # an older figure arriving late changes nothing

        mercy = intake.get("/v1/scorecards", params={"period": "2026-09"}, headers=keys["mercy"])
        county = intake.get("/v1/scorecards", params={"period": "2026-09"}, headers=keys["county"])

    assert [(v["group"], v["volume"]) for v in mercy.json()["vendors"]] == [("northstar", 3)]
    assert mercy.json()["vendors"][0]["accuracy_percent"] == 80.0
    assert county.json() == {"period": "2026-09", "as_of": None, "vendors": []}


@pytest.mark.parametrize(
    ("page", "calls"),
    [
        ("/audits", {"/v1/audit-worklist", "/v1/audits/"}),
        ("/scorecards", {"/v1/scorecards"}),
    ],
)
def test_the_audit_pages_call_only_routes_the_coding_api_has(
    coding: TestClient, page: str, calls: set[str]
) -> None:
    import re

    answer = coding.get(page)
    routes = set(coding.app.openapi()["paths"])  # type: ignore[attr-defined]

    called = set(re.findall(r"[\"`](/v1/[a-z/-]+)", answer.text))

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert called == calls
    for path in called:
        assert any(route.startswith(path.rstrip("/")) for route in routes), path
