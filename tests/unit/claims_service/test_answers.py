"""The payer's answers move each claim once, with the amounts and reasons it gave."""

from __future__ import annotations

import json
from decimal import Decimal

from services.claims.answers import record_answers
from services.claims.batching import plan_of
from services.claims.payer_sim import PayerSimulator
from services.claims.repository import ClaimsRepository
from services.claims.submission import read_batch_answers

from .conftest import ClaimsDb, coded_event, later


def test_a_reduced_payment_keeps_each_lines_adjustment(claims_db: ClaimsDb) -> None:
    claims_db.payer({"default": {"action": "reduce", "percent": 10}})
    claims_db.code([coded_event(0, "R")])

    claims_db.run(claims_db.submitter(), later(1))

    row = claims_db.claims()["R"]
    assert row.status == "paid" and row.paid == "297.00"  # 330.00 less 10% (CO-45)
    lines = json.loads(row.remittance or "{}")
    assert lines[f"{row.patient_control_number}-1"] == {
        "paid": "166.50",
        "adjustments": [["CO", "45", "18.50"]],
        "remarks": [],
    }
    assert row.payer_claim_id == f"P{row.patient_control_number}"
    assert [e["paid"] for e in claims_db.events() if e["status"] == "paid"] == ["297.00"]


def test_a_denied_claim_keeps_the_carc_in_its_reason(claims_db: ClaimsDb) -> None:
    claims_db.payer({"default": {"action": "deny", "carc": "50"}})
    claims_db.code([coded_event(1, "D")])

    claims_db.run(claims_db.submitter(), later(1))

    row = claims_db.claims()["D"]
    assert row.status == "denied" and "CO-50" in row.reason and row.paid == "0.00"


def test_answers_recorded_twice_change_nothing_the_second_time(claims_db: ClaimsDb) -> None:
    claims_db.payer()
    claims_db.code([coded_event(0, "T")])
    claims_db.run(claims_db.submitter(), later(1))
    [batch] = claims_db.batches()
    with claims_db.db.session() as s:
        repo = ClaimsRepository(s)
        plan = plan_of(batch, repo.payer(batch.payer_id), repo.in_batch(batch.id))  # type: ignore[arg-type]
    answers = PayerSimulator().receive(batch.x12, batch.prepared_for)
    read = read_batch_answers(plan, batch.x12, answers)

    again = claims_db.db.run_sync(
        lambda s: record_answers(s, claims_db.settings, batch.id, answers, read, later(2))
    )

    assert again == 0
    row = claims_db.claims()["T"]
    assert claims_db.history(row.id) == ["built", "submitted", "accepted", "acknowledged", "paid"]
    assert Decimal(row.paid or 0) == Decimal(row.total_charge)
