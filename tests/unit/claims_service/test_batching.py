"""Per-payer batches: one interchange per window, validated and sent once, answered once,
while every claim keeps its own tracking; answers move exactly the claims they name."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from services.claims.db import PayerResponse
from services.claims.documents import patient_control_number
from services.claims.domain import index_837, validate_x12
from services.claims.views import claim_837

from .conftest import ClaimsDb, coded_event, later

PAID = ["built", "submitted", "accepted", "acknowledged", "paid"]


def _professional(n: int, prefix: str) -> list[Any]:
    # demo encounters 0 and 1 are professional (one subscriber, one dependent child)
    return [coded_event(i % 2, f"{prefix}{i}") for i in range(n)]


def test_a_window_of_claims_for_one_payer_goes_as_one_interchange_that_passes_pyx12(
    claims_db: ClaimsDb,
) -> None:
    claims_db.payer({"default": {"action": "reduce", "percent": 15}})
    claims_db.code([coded_event(i, f"E{i}") for i in range(25)])

    answered = claims_db.run(claims_db.submitter(), later(1))

    [batch] = claims_db.batches()
    assert answered == batch.claim_count == 25 and batch.status == "answered"
    ok, errors = validate_x12(batch.x12)
    assert ok, errors[:3]
    index = index_837(batch.x12)
    assert sum(len(t.claims) for t in index.transactions) == 25
    assert {t.version for t in index.transactions} == {"005010X222A1", "005010X223A2"}
    claims = claims_db.claims()
    for row in claims.values():
        assert claims_db.history(row.id) == PAID
        assert row.batch_id == batch.id
        assert row.interchange_control_number == batch.interchange_control_number
        assert "validated by pyx12 with no errors" in row.reason or row.status == "paid"
    with claims_db.db.session() as s:
        responses = list(s.exec(select(PayerResponse)))
    assert sorted(r.kind for r in responses) == ["277CA", "835", "999"]  # once per batch
    statuses = [e["status"] for e in claims_db.events()]
    assert statuses.count("paid") == 25 and statuses.count("submitted") == 25


def test_a_999_rejecting_the_batch_moves_exactly_the_claims_in_it(claims_db: ClaimsDb) -> None:
    claims_db.payer()
    claims_db.code(_professional(3, "OK"))
    claims_db.run(claims_db.submitter(), later(1))  # an earlier batch, paid
    claims_db.payer({"reject_sets": True})
    claims_db.code(_professional(22, "R"), at=later(2))

    claims_db.run(claims_db.submitter(), later(3))

    first, second = claims_db.batches()
    assert second.claim_count == 22
    claims = claims_db.claims()
    rejected = {k for k, r in claims.items() if r.status == "rejected"}
    assert rejected == {f"R{i}" for i in range(22)}
    assert all(claims[f"OK{i}"].status == "paid" for i in range(3))
    assert all(r.batch_id == second.id for k, r in claims.items() if k in rejected)
    assert "999 R" in claims["R0"].reason


def test_a_277ca_rejecting_one_claim_moves_only_that_claim(claims_db: ClaimsDb) -> None:
    pcn = patient_control_number("h:C7", 1)
    claims_db.payer({"reject": {pcn: "A7:21"}})
    claims_db.code(_professional(21, "C"))

    claims_db.run(claims_db.submitter(), later(1))

    [batch] = claims_db.batches()
    assert batch.claim_count == 21
    claims = claims_db.claims()
    assert claims["C7"].status == "rejected" and "277CA A7:21" in claims["C7"].reason
    assert claims_db.history(claims["C7"].id) == ["built", "submitted", "accepted", "rejected"]
    assert {k for k, r in claims.items() if r.status != "paid"} == {"C7"}


def test_a_window_of_one_claim_per_interchange_stays_possible(claims_db: ClaimsDb) -> None:
    claims_db.payer()
    claims_db.code(_professional(3, "S"))

    claims_db.run(claims_db.submitter(claims_batch_max_claims=1), later(1))

    batches = claims_db.batches()
    assert [b.claim_count for b in batches] == [1, 1, 1]
    assert len({b.interchange_control_number for b in batches}) == 3
    assert {r.status for r in claims_db.claims().values()} == {"paid"}


def test_claims_wait_for_their_payers_window_then_go_together(claims_db: ClaimsDb) -> None:
    claims_db.payer()
    claims_db.code(_professional(2, "W"))
    submitter = claims_db.submitter(claims_batch_window_seconds=30)

    assert claims_db.run(submitter, later(10)) == 0
    claims_db.code(_professional(1, "X"), at=later(20))
    assert claims_db.run(submitter, later(29)) == 0
    assert claims_db.run(submitter, later(31)) == 3

    [batch] = claims_db.batches()
    assert batch.claim_count == 3


def test_a_claim_pyx12_finds_errors_in_is_held_and_the_batch_goes_without_it(
    claims_db: ClaimsDb,
) -> None:
    def unreadable_name(item: dict[str, Any]) -> None:
        # nothing of it survives in the X12 basic character set: NM103 would be empty
        item["encounter"]["patient"]["last_name"] = "李"

    claims_db.payer()
    claims_db.code([*_professional(4, "G"), coded_event(0, "BAD", unreadable_name)])

    claims_db.run(claims_db.submitter(), later(1))

    claims = claims_db.claims()
    assert claims["BAD"].status == "held"
    assert claims["BAD"].batch_id is None
    assert "NM103" in claims["BAD"].findings and "李" not in claims["BAD"].findings
    assert {claims[f"G{i}"].status for i in range(4)} == {"paid"}
    [batch] = claims_db.batches()
    assert batch.claim_count == 4 and validate_x12(batch.x12)[0]
    assert claims["BAD"].patient_control_number not in batch.x12


def test_a_claims_own_837_is_shown_in_its_batchs_envelope(claims_db: ClaimsDb) -> None:
    claims_db.payer()
    claims_db.code([coded_event(i, f"V{i}") for i in range(5)])
    claims_db.run(claims_db.submitter(), later(1))
    [batch] = claims_db.batches()
    row = claims_db.claims()["V4"]  # institutional: the batch's second group

    with claims_db.db.session() as s:
        text = claim_837(s, row)

    assert validate_x12(text)[0]
    assert text[90:99] == batch.x12[90:99]  # the batch's ISA13
    [transaction] = index_837(text).transactions
    assert transaction.claims == [row.patient_control_number]
    assert f"{transaction.group_control}/{transaction.transaction_control}" == row.transaction_set
    assert row.transaction_set in {
        f"{t.group_control}/{t.transaction_control}" for t in index_837(batch.x12).transactions
    }
