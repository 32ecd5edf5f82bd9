"""Physician queries at the HTTP edge of coding and intake: what coders and hospitals see."""

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

from services.coding import handlers as coding_handlers
from services.coding import physician_queries as coding_queries
from services.coding.app import create_app as coding_app
from services.intake import physician_queries as intake_queries
from services.intake.app import create_app as intake_app
from shared.events.assignment import (
    CodingTaskHeld,
    CodingTaskResumed,
    CodingTaskWithdrawn,
    EncounterCancelled,
    QueryEscalated,
    QueryReminded,
)
from shared.events.coding import QueryContent, QueryOption, QueryRaised
from shared.events.envelope import Envelope, EventData
from shared.events.intake import PhysicianAnswer, QueryAnswered
from shared.outbox import OutboxEvent
from shared.settings import ChartflowSettings
from tests.coding_tasks import deliver_task
from tests.conftest import ADMIN_TOKEN

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ENCOUNTER = DEMO["encounters"][0]["encounter"]
NOTE = ENCOUNTER["documents"][0]["text"]
KEY = "mercy:DEMO-OV-1001"
QUOTE = "right knee primary osteoarthritis"
QUERY = {
    "question": "Please clarify the type of the right knee osteoarthritis.",
    "format": "multiple_choice",
    "indicators": [{"document": 0, "start": NOTE.index(QUOTE), "quote": QUOTE}],
    "options": ["Primary", "Post-traumatic", "Other (please specify)", "Clinically undetermined"],
}


def _settings(service: str, tmp_path: Path) -> ChartflowSettings:
    # Nothing listens on port 1: no event leaves these tests (they stay in the outbox).
    return ChartflowSettings(
        service_name=service,
        database_url=None,  # SQLite of its own, whatever DATABASE_URL says
        kafka_bootstrap_servers="127.0.0.1:1",
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
    )


def _deliver(app: FastAPI, handle: Any, data: EventData, event_id: str | None = None) -> None:
    envelope = Envelope.wrap(data, source="test", subject=KEY, tenant="mercy", id=event_id)
    app.state.runtime.db.run_sync(lambda s: handle(s, envelope))


def _outbox(app: FastAPI, kind: type[EventData], sealed: str = "") -> list[dict[str, Any]]:
    """The `kind` events waiting in the outbox, opened; `sealed` (PHI) shows in none as sent."""
    rows = app.state.runtime.db.run_sync(lambda s: list(s.exec(select(OutboxEvent))))
    envelopes = [Envelope.model_validate_json(r.payload) for r in rows]
    found = [e for e in envelopes if e.type == kind.event_type]
    assert not sealed or all(sealed not in json.dumps(e.data) for e in found)
    return [e.payload(kind).model_dump(mode="json") for e in found]


@pytest.fixture
def coding(tmp_path: Path) -> Iterator[tuple[TestClient, FastAPI]]:
    app = coding_app(_settings("coding", tmp_path), frozenset({"api"}))
    with TestClient(app) as client:
        for coder in ("ava", "ben"):
            body = {"id": coder, "vendor_id": "northstar", "name": coder,
                    "pools": ["pro"], "credentials": ["CPC"]}  # fmt: skip
            client.post("/v1/admin/coders", json=body, headers=ADMIN)
        deliver_task(app, "task-1")
        yield client, app


def _key(client: TestClient, coder: str) -> dict[str, str]:
    body = {"id": coder, "vendor_id": "northstar", "name": coder,
            "pools": ["pro"], "credentials": ["CPC"]}  # fmt: skip
    return {
        "X-API-Key": client.post("/v1/admin/coders", json=body, headers=ADMIN).json()["api_key"]
    }


def _worklist(client: TestClient, coder: dict[str, str]) -> list[str]:
    return [t["id"] for t in client.get("/v1/worklist", headers=coder).json()]


def test_a_refused_query_names_every_reason_and_nothing_is_sent(
    coding: tuple[TestClient, FastAPI],
) -> None:
    client, app = coding
    ava = _key(client, "ava")
    leading = {**QUERY, "question": "Would a higher DRG be supported? Please clarify.",
               "options": ["Primary", "Other"]}  # fmt: skip

    refused = client.post("/v1/tasks/task-1/queries", json=leading, headers=ava)

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [(r["rule"], r["field"]) for r in refused.json()["refusals"]] == [
        ("QUERY_MULTIPLE_CHOICE_TOO_FEW", "options"),
        ("QUERY_MULTIPLE_CHOICE_NO_UNDETERMINED", "options"),
        ("QUERY_LEADING_DRG", "question"),
    ]
    assert client.get("/v1/queries", headers=ava).json() == []
    assert _outbox(app, QueryRaised) == []
    assert _worklist(client, ava) == ["task-1"]


def test_a_query_takes_the_task_off_the_worklist_until_withdrawn_by_its_coder(
    coding: tuple[TestClient, FastAPI],
) -> None:
    client, app = coding
    ava, ben = _key(client, "ava"), _key(client, "ben")

    raised = client.post("/v1/tasks/task-1/queries", json=QUERY, headers=ava)
    query_id = raised.json()["id"]

    assert raised.status_code == 201
    assert _worklist(client, ava) == []
    assert client.post("/v1/tasks/task-1/codes", json=DEMO["encounters"][0]["coding"],
                       headers=ava).status_code == 409  # fmt: skip
    [event] = _outbox(app, QueryRaised, sealed=QUOTE)
    assert event["content"]["options"][2] == {"text": "Other (please specify)", "kind": "other"}
    assert client.post(f"/v1/queries/{query_id}/withdraw", headers=ben).status_code == 404
    withdrawn = client.post(f"/v1/queries/{query_id}/withdraw", headers=ava)
    assert withdrawn.json()["status"] == "withdrawn"
    assert _worklist(client, ava) == ["task-1"]
    assert client.post(f"/v1/queries/{query_id}/withdraw", headers=ava).status_code == 409
    assert [q["status"] for q in client.get("/v1/queries", headers=ava).json()] == ["withdrawn"]


def test_the_answer_returns_the_task_with_an_addendum_a_later_query_may_quote(
    coding: tuple[TestClient, FastAPI],
) -> None:
    client, app = coding
    ava = _key(client, "ava")
    query_id = client.post("/v1/tasks/task-1/queries", json=QUERY, headers=ava).json()["id"]
    answer = QueryAnswered(
        query_id=query_id,
        encounter_key=KEY,
        hospital_id="mercy",
        answered_by_npi="1112223338",
        answered_at=datetime.now(UTC),
        answer=PhysicianAnswer(choice="Other (please specify)", text="Secondary to gout"),
    )

    _deliver(app, coding_queries.take_answer, answer, "answer-1")
    _deliver(app, coding_queries.take_answer, answer, "answer-1")  # redelivered: once

    assert _worklist(client, ava) == ["task-1"]
    task = client.get("/v1/tasks/task-1", headers=ava).json()
    [_, addendum] = task["chart"]["documents"]
    assert addendum["kind"] == "physician_query_addendum"
    assert "Secondary to gout" in addendum["text"] and "NPI 1112223338" in addendum["text"]
    assert task["queries"][0]["answer"]["text"] == "Secondary to gout"
    quote = "Secondary to gout"
    follow_up = {**QUERY, "indicators": [
        {"document": 1, "start": addendum["text"].index(quote), "quote": quote}]}  # fmt: skip
    assert client.post("/v1/tasks/task-1/queries", json=follow_up, headers=ava).status_code == 201


def test_a_held_task_leaves_the_worklist_and_takes_no_query_until_resumed(
    coding: tuple[TestClient, FastAPI],
) -> None:
    client, app = coding
    ava = _key(client, "ava")
    later = datetime.now(UTC) + timedelta(days=2)

    _deliver(app, coding_handlers.take_task, CodingTaskHeld(task_id="task-1", encounter_key=KEY))
    held = client.post("/v1/tasks/task-1/queries", json=QUERY, headers=ava)
    on_hold = _worklist(client, ava)
    resumed = CodingTaskResumed(task_id="task-1", encounter_key=KEY, due_at=later)
    _deliver(app, coding_handlers.take_task, resumed)

    assert (held.status_code, on_hold) == (409, [])
    [task] = client.get("/v1/worklist", headers=ava).json()
    assert datetime.fromisoformat(task["due_at"]).replace(tzinfo=UTC) == later


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[TestClient, FastAPI]]:
    app = intake_app(_settings("intake", tmp_path), frozenset({"api"}))
    with TestClient(app) as client:
        yield client, app


def _hospital(client: TestClient, hospital_id: str) -> dict[str, str]:
    body = {**DEMO["hospital"], "id": hospital_id, "cdi_contact": "cdi@mercy.example"}
    key = client.post("/v1/admin/hospitals", json=body, headers=ADMIN).json()["api_key"]
    return {"X-API-Key": key}


def _raised(query_id: str, options: list[tuple[str, str]]) -> QueryRaised:
    return QueryRaised(
        query_id=query_id,
        task_id="task-1",
        encounter_key=KEY,
        hospital_id="mercy",
        coder_id="ava",
        format="multiple_choice" if options else "open_ended",
        raised_at=datetime.now(UTC),
        content=QueryContent(
            question=QUERY["question"],
            indicators=QUERY["indicators"],
            options=[QueryOption(text=t, kind=k) for t, k in options],  # type: ignore[arg-type]
        ),
    )


def test_the_hospital_answers_its_own_queries_with_an_answer_that_fits(
    intake: tuple[TestClient, FastAPI],
) -> None:
    client, app = intake
    mercy, county = _hospital(client, "mercy"), _hospital(client, "county")
    options = [("Primary", "clinical"), ("Post-traumatic", "clinical"), ("Other", "other"),
               ("Clinically undetermined", "undetermined")]  # fmt: skip
    _deliver(app, intake_queries.record_query, _raised("q-1", options))
    url = "/v1/queries/q-1/answer"

    [listed] = client.get("/v1/queries", headers=mercy).json()
    hidden = client.get("/v1/queries/q-1", headers=county)
    not_theirs = client.post(url, json={"answered_by_npi": "1112223338", "choice": "Primary"},
                             headers=county)  # fmt: skip
    misfit = client.post(url, json={"answered_by_npi": "1112223338", "choice": "Other"},
                         headers=mercy)  # fmt: skip
    answered = client.post(url, json={"answered_by_npi": "1112223338", "choice": "Primary"},
                           headers=mercy)  # fmt: skip
    again = client.post(url, json={"answered_by_npi": "1112223338", "choice": "Primary"},
                        headers=mercy)  # fmt: skip

    assert (listed["id"], listed["status"], listed["question"]) == (
        "q-1",
        "open",
        QUERY["question"],
    )
    assert (hidden.status_code, not_theirs.status_code) == (404, 404)
    assert misfit.status_code == 422
    assert misfit.json()["errors"] == [
        {"field": "text", "message": '"Other" needs the physician\'s own words'}
    ]
    assert answered.status_code == 200
    assert answered.json()["answer"] == {"choice": "Primary", "text": None,
                                         "answered_by_npi": "1112223338"}  # fmt: skip
    assert again.status_code == 409
    [event] = _outbox(app, QueryAnswered, sealed="Primary")
    assert (event["query_id"], event["answer"]["choice"]) == ("q-1", "Primary")
    assert client.get("/v1/queries", headers=mercy).json() == []  # open ones by default


def test_reminders_escalation_to_the_cdi_contact_and_cancellation_show_to_the_hospital(
    intake: tuple[TestClient, FastAPI],
) -> None:
    client, app = intake
    mercy = _hospital(client, "mercy")
    client.post("/v1/encounters", json=ENCOUNTER, headers=mercy)
    _deliver(app, intake_queries.record_query, _raised("q-1", []))
    at = datetime.now(UTC)
    for n in (1, 2):
        reminded = QueryReminded(
            query_id="q-1", encounter_key=KEY, hospital_id="mercy", reminder=n, raised_at=at
        )
        _deliver(app, intake_queries.record_follow_up, reminded)
    escalated = QueryEscalated(query_id="q-1", encounter_key=KEY, hospital_id="mercy",
                               escalation_id="e-1", reminders_sent=2, raised_at=at)  # fmt: skip
    _deliver(app, intake_queries.record_follow_up, escalated)

    view = client.get("/v1/queries/q-1", headers=mercy).json()
    assert (view["reminders_sent"], view["escalated_to"]) == (2, "cdi@mercy.example")
    assert view["escalated_at"] is not None

    cancelled = EncounterCancelled(encounter_key=KEY, hospital_id="mercy", reason="duplicate")
    _deliver(app, intake_queries.record_follow_up, cancelled)

    assert client.get("/v1/queries/q-1", headers=mercy).json()["status"] == "cancelled"
    [encounter] = client.get("/v1/encounters", headers=mercy).json()
    assert encounter["status"] == "cancelled"


def test_a_cancelled_encounter_takes_the_task_away_and_cancels_its_open_queries(
    coding: tuple[TestClient, FastAPI],
) -> None:
    client, app = coding
    ava = _key(client, "ava")
    client.post("/v1/tasks/task-1/queries", json=QUERY, headers=ava)

    withdrawn = CodingTaskWithdrawn(task_id="task-1", encounter_key=KEY, reason="cancelled")
    _deliver(app, coding_handlers.take_task, withdrawn)

    assert client.get("/v1/tasks/task-1", headers=ava).status_code == 404
    assert [q["status"] for q in client.get("/v1/queries", headers=ava).json()] == ["cancelled"]
    assert client.post("/v1/tasks/task-1/codes", json=DEMO["encounters"][0]["coding"],
                       headers=ava).status_code == 404  # fmt: skip
