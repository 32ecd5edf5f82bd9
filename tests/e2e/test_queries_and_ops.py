"""A coder asks the physician, the hospital answers, the same coder codes with the answer on the
chart and the claim is paid; the SLA due time moved by the time the query was open. Ops hold,
release and cancel an encounter. Over HTTP only, against the four running services."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from deploy.demo.driver import Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.temporal]

CODER = "coder-ava"
QUOTE = "right knee primary osteoarthritis"
OPTIONS = [
    "Primary osteoarthritis, right knee",
    "Post-traumatic osteoarthritis, right knee",
    "Other (please specify)",
    "Clinically undetermined",
]


def _until(what: str, probe: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := probe()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {seconds}s")
        time.sleep(0.2)
    return found


class Parties:
    """The hospital, the coder and ops, each with their own credentials."""

    def __init__(self, platform: Scenario) -> None:
        self.p, self.e = platform, platform.endpoints
        self.coder = {"X-API-Key": platform.coder_keys[CODER]}
        self.hospital = {"X-API-Key": platform.hospital_key}
        self.ops = {"Authorization": f"Bearer {platform.endpoints.admin_token}"}

    def worklist(self, key: str) -> list[dict[str, Any]]:
        tasks = self.p._ok(self.p.client.get(f"{self.e.coding}/v1/worklist", headers=self.coder))
        return [t for t in tasks if t["encounter_key"] == key]

    def raise_query(self, task_id: str, query: dict[str, Any]) -> Any:
        url = f"{self.e.coding}/v1/tasks/{task_id}/queries"
        return self.p.client.post(url, json=query, headers=self.coder)

    def coding_status(self, key: str) -> dict[str, Any]:
        url = f"{self.e.assignment}/v1/coding-status/{key}"
        status: dict[str, Any] = self.p._ok(self.p.client.get(url, headers=self.ops))
        return status


def test_a_query_answered_by_the_physician_reaches_the_coder_and_the_claim_is_paid(
    platform: Scenario,
) -> None:
    parties, c, e = Parties(platform), platform.client, platform.endpoints
    item = platform.data["encounters"][0]
    pushed = platform.push(item["encounter"])
    key = pushed["encounter_key"]
    [task] = _until("task on the worklist", lambda: parties.worklist(key))
    opened = platform._ok(c.get(f"{e.coding}/v1/tasks/{task['id']}", headers=parties.coder))
    note = opened["chart"]["documents"][0]["text"]
    indicator = {"document": 0, "start": note.index(QUOTE), "quote": QUOTE}
    query = {
        "question": "Please clarify the type of the right knee osteoarthritis being treated.",
        "format": "multiple_choice",
        "indicators": [indicator],
        "options": OPTIONS,
    }

    leading = parties.raise_query(
        task["id"],
        {
            **query,
            "question": "Documenting sepsis would increase reimbursement: please document it.",
        },
    )
    unfounded = parties.raise_query(task["id"], {**query, "indicators": []})
    raised = parties.raise_query(task["id"], query)

    assert leading.status_code == 422
    assert leading.headers["content-type"] == "application/problem+json"
    assert [r["rule"] for r in leading.json()["refusals"]] == ["QUERY_LEADING_FINANCIAL"]
    assert "reimbursement" in leading.json()["detail"]
    assert unfounded.status_code == 422
    assert [r["rule"] for r in unfounded.json()["refusals"]] == ["QUERY_NO_INDICATOR"]
    assert raised.status_code == 201, raised.text
    query_id = raised.json()["id"]
    _until("the task off the worklist", lambda: parties.worklist(key) == [])
    paused = _until(
        "the SLA clock stopped",
        lambda: (s := parties.coding_status(key))["status"] == "query_pending" and s,
    )

    hospital_queries = _until(
        "the query at the hospital",
        lambda: platform._ok(c.get(f"{e.intake}/v1/queries", headers=parties.hospital)),
    )
    [seen] = [q for q in hospital_queries if q["id"] == query_id]
    assert (seen["encounter_key"], seen["status"], seen["question"]) == (
        key,
        "open",
        query["question"],
    )
    assert seen["indicators"] == [indicator]
    assert [o["text"] for o in seen["options"]] == OPTIONS
    time.sleep(2)  # the physician takes a moment; the clock stands still meanwhile
    answer_url = f"{e.intake}/v1/queries/{query_id}/answer"
    misfit = c.post(
        answer_url,
        json={"answered_by_npi": "1112223338", "choice": "Gout"},
        headers=parties.hospital,
    )
    answered = c.post(
        answer_url,
        json={"answered_by_npi": "1112223338", "choice": OPTIONS[0]},
        headers=parties.hospital,
    )

    assert misfit.status_code == 422
    assert misfit.json()["errors"][0]["field"] == "choice"
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    # The same coder gets the task back, with the answer on the chart.
    [back] = _until("the task back on the worklist", lambda: parties.worklist(key))
    assert back["id"] == task["id"]
    reopened = platform._ok(c.get(f"{e.coding}/v1/tasks/{task['id']}", headers=parties.coder))
    addendum = reopened["chart"]["documents"][-1]
    assert addendum["kind"] == "physician_query_addendum"
    assert OPTIONS[0] in addendum["text"] and "1112223338" in addendum["text"]
    assert reopened["queries"][0]["answer"]["choice"] == OPTIONS[0]
    resumed = _until(
        "the SLA clock running again",
        lambda: (s := parties.coding_status(key))["status"] == "assigned" and s,
    )
    submitted = c.post(
        f"{e.coding}/v1/tasks/{task['id']}/codes", json=item["coding"], headers=parties.coder
    )
    assert submitted.status_code == 202, submitted.text

    views = platform.run_until_claimed({item["encounter"]["external_id"]: pushed}, timeout=60)

    assert views[item["encounter"]["external_id"]]["status"] == "claim_paid"
    due_before = datetime.fromisoformat(paused["due_at"])
    due_after = datetime.fromisoformat(resumed["due_at"])
    [state] = resumed["queries"]
    open_for = datetime.fromisoformat(state["closed_at"]) - datetime.fromisoformat(
        state["raised_at"]
    )
    assert due_after - due_before == open_for == timedelta(seconds=resumed["sla_paused_seconds"])
    assert timedelta(seconds=2) <= open_for < timedelta(seconds=15)
    figures = platform._ok(
        c.get(f"{e.assignment}/v1/query-figures", params={"by": "coder"}, headers=parties.ops)
    )
    [ava] = [f for f in figures if f["key"] == CODER]
    assert (ava["raised"], ava["answered"], ava["open"]) == (1, 1, 0)
    assert ava["response_p50_seconds"] >= 2


def test_ops_hold_release_and_cancel_an_encounter_over_http(platform: Scenario) -> None:
    parties, c, e = Parties(platform), platform.client, platform.endpoints
    pushed = platform.push(platform.data["encounters"][1]["encounter"])
    key = pushed["encounter_key"]
    [task] = _until("task on the worklist", lambda: parties.worklist(key))
    control = f"{e.assignment}/v1/encounters/{key}"
    who = {"by": "ops-jane", "reason": "hospital asked to wait for a late note"}

    held = c.post(f"{control}/hold", json=who, headers=parties.ops)
    _until("the task off the worklist", lambda: parties.worklist(key) == [])
    again = c.post(f"{control}/hold", json=who, headers=parties.ops)
    not_ops = c.post(f"{control}/hold", json=who, headers=parties.coder)
    released = c.post(f"{control}/release", json=who, headers=parties.ops)
    [back] = _until("the task back on the worklist", lambda: parties.worklist(key))
    cancelled = c.post(f"{control}/cancel", json=who, headers=parties.ops)
    view = _until(
        "the hospital seeing it cancelled",
        lambda: (v := platform.encounter(pushed["id"]))["status"] == "cancelled" and v,
    )

    assert (held.status_code, held.json()["action"], held.json()["by"]) == (202, "hold", "ops-jane")
    assert again.status_code == 409 and again.json()["detail"] == "already on hold"
    assert not_ops.status_code == 401
    assert released.status_code == 202
    assert back["id"] == task["id"]
    assert cancelled.status_code == 202
    assert view["claim"]["status"] is None  # nothing billed
    _until("the task off the worklist", lambda: parties.worklist(key) == [])
    status = parties.coding_status(key)
    assert status["status"] == "cancelled"
    assert [a["action"] for a in status["ops_actions"]] == ["hold", "release hold", "cancel"]
    after = c.post(f"{control}/hold", json=who, headers=parties.ops)
    assert after.status_code == 409 and "cancelled" in after.json()["detail"]
