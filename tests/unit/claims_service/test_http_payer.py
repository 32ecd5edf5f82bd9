"""Claims talks to the HTTP payer simulator over real HTTP; scenarios are scripted per claim."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from services.claims.payer_sim.service import PayerDesk, create_app
from services.claims.payers import HttpPayer
from tests.integration.proxy import free_port

from .conftest import DEMO, ClaimsDb, coded_event, later


class RunningPayer:
    def __init__(self, url: str) -> None:
        self.url = url

    def script(self, config: dict) -> httpx.Response:
        return httpx.put(f"{self.url}/v1/scenarios", json=config, timeout=10)


@pytest.fixture
def http_payer() -> Iterator[RunningPayer]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(PayerDesk()), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield RunningPayer(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(5)


def over_http(claims_db: ClaimsDb, url: str) -> None:
    claims_db.payer()
    with claims_db.db.session() as s:
        from services.claims.db import PayerRow

        row = s.get(PayerRow, "ACMEHLTH")
        assert row is not None
        row.endpoint = url
        s.add(row)
        s.commit()


def member(index: int) -> str:
    return DEMO["encounters"][index]["encounter"]["coverage"]["member_id"]


def test_a_claim_the_scenario_names_by_member_id_is_denied_co11(
    claims_db: ClaimsDb, http_payer: RunningPayer
) -> None:
    over_http(claims_db, http_payer.url)
    answer = http_payer.script(
        {"scenarios": [{"match": {"member_id": member(2)}, "action": "deny", "carc": "11"}]}
    )
    assert answer.status_code == 200
    claims_db.code([coded_event(2, "A"), coded_event(0, "B")])

    claims_db.run(claims_db.submitter(), later(1))

    rows = claims_db.claims()
    assert rows["A"].status == "denied" and "CO-11" in rows["A"].reason
    assert '"cause": "coding"' in rows["A"].triage
    assert rows["B"].status == "paid"
    assert len(claims_db.batches()) == 1  # one interchange for the payer's two claims


def test_a_delayed_answer_is_asked_for_again_with_the_same_interchange(
    claims_db: ClaimsDb, http_payer: RunningPayer
) -> None:
    over_http(claims_db, http_payer.url)
    http_payer.script({"scenarios": [{"action": "delay", "delay_seconds": 1}]})
    claims_db.code([coded_event(0, "L")])
    submitter = claims_db.submitter()

    assert claims_db.run(submitter, later(1)) == 0  # 202: the payer answers later
    [batch] = claims_db.batches()
    assert batch.status == "sending" and batch.attempts == 1
    assert claims_db.claims()["L"].status == "built"
    time.sleep(1.1)

    assert claims_db.run(submitter, later(1000)) == 1  # the lease ran out: sent again
    [again] = claims_db.batches()
    assert again.interchange_control_number == batch.interchange_control_number
    assert claims_db.claims()["L"].status == "paid"


def test_a_batch_the_999_rejects_moves_every_claim_in_it(
    claims_db: ClaimsDb, http_payer: RunningPayer
) -> None:
    over_http(claims_db, http_payer.url)
    http_payer.script({"scenarios": [{"match": {"member_id": member(0)}, "action": "reject_999"}]})

    def another_member(item: dict) -> None:
        item["encounter"]["coverage"]["member_id"] = "ACM999888777"

    # X and Y are 837P claims in one transaction set; Z, an 837I, is in another
    claims_db.code([coded_event(0, "X"), coded_event(1, "Y", another_member), coded_event(2, "Z")])

    claims_db.run(claims_db.submitter(), later(1))

    rows = claims_db.claims()
    assert (rows["X"].status, rows["Y"].status, rows["Z"].status) == (
        "rejected",
        "rejected",
        "paid",
    )
    assert len(claims_db.batches()) == 1
    assert '"code": "999 R"' in rows["X"].triage and '"cause": "billing"' in rows["X"].triage


def test_the_payer_answers_a_resent_interchange_as_it_did_the_first_time(
    claims_db: ClaimsDb, http_payer: RunningPayer
) -> None:
    over_http(claims_db, http_payer.url)
    claims_db.code([coded_event(0, "S")])
    claims_db.run(claims_db.submitter(), later(1))
    [batch] = claims_db.batches()
    http_payer.script({"default": {"action": "deny", "carc": "50"}})  # changes nothing sent

    again = HttpPayer(http_payer.url).receive(batch.x12, later(2))
    isa13 = f"{batch.interchange_control_number:09d}"
    kept = httpx.get(f"{http_payer.url}/v1/interchanges/{isa13}", timeout=10).json()

    assert again.remit_835 == kept["remit_835"] and "CAS*CO*50" not in (again.remit_835 or "")


def test_bad_scenarios_and_bad_files_are_refused_with_the_reason(
    http_payer: RunningPayer,
) -> None:
    answer = http_payer.script({"scenarios": [{"action": "deny"}]})
    assert answer.status_code == 422 and "CARC" in answer.json()["detail"]
    answer = httpx.post(f"{http_payer.url}/v1/interchanges", content=b"hello", timeout=10)
    assert answer.status_code == 400


def test_a_payer_that_cannot_be_reached_refused_the_batch(claims_db: ClaimsDb) -> None:
    over_http(claims_db, f"http://127.0.0.1:{free_port()}")
    claims_db.code([coded_event(0, "U"), coded_event(1, "W")])

    claims_db.run(claims_db.submitter(), later(1))

    [batch] = claims_db.batches()
    assert batch.status == "refused" and "no connection" in batch.reason
    assert all(r.alone and r.status == "built" for r in claims_db.claims().values())
