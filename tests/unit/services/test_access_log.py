"""The PHI access log: admins filter and page it, a hospital sees its own, nobody edits it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from services.intake import handlers
from services.intake.app import create_app
from shared.events.access import PhiAccessed
from shared.events.envelope import Envelope
from tests.unit.services.test_api_contracts import ADMIN, DEMO, _hospital, _settings

T0 = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)


def _read(app: FastAPI, minute: int, **fields: Any) -> None:
    """An access record as it arrives from `access.log` (delivered twice: at least once)."""
    accessed = PhiAccessed(
        **{
            "actor": "coder-ava", "role": "coder", "actor_org": "northstar", "tenant": "mercy",
            "action": "chart.read", "encounter_key": "mercy:E1", "route": "GET /v1/tasks/{task_id}",
            "service": "coding", "at": T0 + timedelta(minutes=minute), **fields,
        }
    )  # fmt: skip
    envelope = Envelope.wrap(accessed, source="coding", subject="k", tenant="mercy")
    for _ in range(2):
        app.state.runtime.db.run_sync(lambda s: handlers.store_access(s, envelope))


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings("intake", tmp_path), frozenset({"api"}))) as client:
        yield client


def test_admins_filter_the_log_by_person_encounter_and_time_and_page_through_it(
    intake: TestClient,
) -> None:
    app = intake.app  # type: ignore[attr-defined]
    _read(app, 0)
    _read(app, 1, encounter_key="mercy:E2")
    _read(app, 2, actor="admin", role="admin", actor_org=None, action="claim.x12.read",
          claim_id="c1", route="GET /v1/claims/{claim_id}/x12", service="claims")  # fmt: skip
    _read(app, 3, tenant="county", encounter_key="county:E9")

    def get(**params: Any) -> dict[str, Any]:
        answer = intake.get("/v1/admin/access-log", params=params, headers=ADMIN)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    everything = get()
    by_coder = get(actor="coder-ava")
    by_encounter = get(encounter_key="mercy:E1")
    window = get(
        since=(T0 + timedelta(minutes=1)).isoformat(), until=(T0 + timedelta(minutes=3)).isoformat()
    )
    first = get(limit=3)
    rest = get(limit=3, after=first["next_after"])

    assert len(everything["records"]) == 4  # each delivered twice, stored once
    assert everything["next_after"] is None
    assert [r["encounter_key"] for r in by_coder["records"]] == [
        "mercy:E1",
        "mercy:E2",
        "county:E9",
    ]
    assert [r["action"] for r in by_encounter["records"]] == ["chart.read", "claim.x12.read"]
    assert [r["action"] for r in window["records"]] == ["chart.read", "claim.x12.read"]
    x12 = window["records"][1]
    assert (x12["actor"], x12["claim_id"], x12["route"]) == (
        "admin",
        "c1",
        "GET /v1/claims/{claim_id}/x12",
    )
    assert len(first["records"]) == 3 and first["next_after"] is not None
    assert [r["tenant"] for r in rest["records"]] == ["county"] and rest["next_after"] is None
    assert intake.get("/v1/admin/access-log").status_code == 401


def test_a_hospital_reads_only_the_records_of_its_own_encounters(intake: TestClient) -> None:
    app = intake.app  # type: ignore[attr-defined]
    mercy = _hospital(intake, "mercy")
    _read(app, 0)
    _read(app, 1, tenant="county", encounter_key="county:E9")

    own = intake.get("/v1/access-log", headers=mercy).json()["records"]
    sneaky = intake.get("/v1/access-log", params={"encounter_key": "county:E9"}, headers=mercy)
    other_tenant = intake.get("/v1/access-log", params={"tenant": "county"}, headers=mercy)

    assert [r["encounter_key"] for r in own] == ["mercy:E1"]
    assert sneaky.json()["records"] == []
    assert other_tenant.status_code == 422  # a hospital cannot even ask for another's records


def test_reading_an_encounter_appends_a_record_and_the_log_refuses_changes(
    intake: TestClient,
) -> None:
    app = intake.app  # type: ignore[attr-defined]
    mercy = _hospital(intake, "mercy")
    pushed = intake.post("/v1/encounters", json=DEMO["encounters"][0]["encounter"], headers=mercy)
    intake.get(f"/v1/encounters/{pushed.json()['id']}", headers=mercy)
    _read(app, 0)

    outbox = app.state.runtime.db.run_sync(
        lambda s: s.execute(text("SELECT payload FROM outbox_event")).all()
    )
    db = app.state.runtime.db
    with db.session() as session, pytest.raises(DatabaseError, match="append-only"):
        session.execute(text("UPDATE access_record SET actor = 'nobody'"))
    with db.session() as session, pytest.raises(DatabaseError, match="append-only"):
        session.execute(text("DELETE FROM access_record"))

    assert len(outbox) == 2  # the encounter received, and the hospital's read of it
    assert len(intake.get("/v1/admin/access-log", headers=ADMIN).json()["records"]) == 1
