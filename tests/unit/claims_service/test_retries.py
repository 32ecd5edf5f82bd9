"""Submission retries: backoff, a budget, a final status the hospital sees, no head-of-line
blocking, and a crash between send and record that cannot bill twice."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from services.claims.batching import PayerSnapshot
from services.claims.documents import patient_control_number
from services.claims.domain.exchange import PayerAdapter, PayerAnswers, PayerRefused
from services.claims.payer_sim import PayerSimulator

from .conftest import ClaimsDb, coded_event, later


class Payer:
    """The simulator, with a fault: refuse files with a claim, or fail (delivery uncertain)."""

    def __init__(self, refuse_pcn: str = "", fail: BaseException | None = None) -> None:
        self.refuse_pcn = refuse_pcn
        self.fail = fail
        self.received: list[str] = []

    def __call__(self, payer: PayerSnapshot) -> PayerAdapter:
        return self

    def receive(self, x12_837: str, when: datetime) -> PayerAnswers:
        self.received.append(x12_837)
        if self.refuse_pcn and f"CLM*{self.refuse_pcn}*" in x12_837:
            raise PayerRefused("the gateway refused the file")
        if self.fail is not None:
            raise self.fail
        return PayerSimulator().receive(x12_837, when)


def _code(claims_db: ClaimsDb, n: int, prefix: str) -> None:
    claims_db.payer()
    claims_db.code([coded_event(i % 2, f"{prefix}{i}") for i in range(n)])


def test_a_claim_the_payer_refuses_never_delays_the_others_and_ends_submission_failed(
    claims_db: ClaimsDb,
) -> None:
    _code(claims_db, 21, "P")
    poison = patient_control_number("h:P5", 1)
    payer = Payer(refuse_pcn=poison)
    submitter = claims_db.submitter(payer)

    claims_db.run(submitter, later(1))  # the batch of 21 is refused: each claim goes alone
    claims_db.run(submitter, later(1))  # at once, in 21 interchanges: 20 are paid

    claims = claims_db.claims()
    assert {k for k, r in claims.items() if r.status == "paid"} == {f"P{i}" for i in range(21)} - {
        "P5"
    }
    assert claims["P5"].status == "built" and claims["P5"].attempts == 1

    # retried alone after 30 s, then 60, then 100 (capped), then the budget (4) is spent
    tries = []
    for at in (29, 30, 89, 90, 189, 190):
        claims_db.run(submitter, later(1 + at))
        tries.append(claims_db.claims()["P5"].attempts)
    assert tries == [1, 2, 2, 3, 3, 4]

    final = claims_db.claims()["P5"]
    assert final.status == "submission_failed"
    assert "did not take the claim in 4 attempts" in final.reason
    assert claims_db.history(final.id) == ["built", "submission_failed"]
    announced = [e for e in claims_db.events() if e["claim_id"] == final.id]
    assert [e["status"] for e in announced] == ["built", "submission_failed"]
    for secret in ("Maria", "Sample", "ACM100200301", "1968-04-12", "12 Elm St"):
        assert secret not in final.reason
    assert sum(1 for text in payer.received if f"CLM*{poison}*" in text) == 5  # 1 + 4 alone


def test_delivery_uncertain_resends_the_same_interchange_then_gives_up(
    claims_db: ClaimsDb,
) -> None:
    _code(claims_db, 3, "U")
    payer = Payer(fail=TimeoutError())
    submitter = claims_db.submitter(payer)

    for at in (1, 31, 91, 191):  # backoff 30, 60, 100 (capped); 4 attempts in all
        claims_db.run(submitter, later(at))

    assert len(payer.received) == 4 and len(set(payer.received)) == 1  # same ISA13, same bytes
    [batch] = claims_db.batches()
    assert batch.status == "failed" and batch.attempts == 4
    claims = claims_db.claims()
    assert {r.status for r in claims.values()} == {"submission_failed"}
    assert "could not be confirmed in 4 attempts" in claims["U0"].reason


class Crash(BaseException):
    """The process dies (no handler runs)."""


def test_a_crash_between_send_and_record_resends_the_same_interchange_once(
    claims_db: ClaimsDb,
) -> None:
    _code(claims_db, 3, "K")
    payer = Payer(fail=Crash())
    with pytest.raises(Crash):
        claims_db.run(claims_db.submitter(payer), later(1))
    [sent] = payer.received
    assert {r.status for r in claims_db.claims().values()} == {"built"}

    # restarted: within the lease nothing is sent; after it, the same interchange, once
    payer.fail = None
    restarted = claims_db.submitter(payer)
    assert claims_db.run(restarted, later(30)) == 0
    assert claims_db.run(restarted, later(62)) == 3
    assert claims_db.run(restarted, later(200)) == 0

    assert payer.received == [sent, sent]
    [batch] = claims_db.batches()
    assert batch.status == "answered"
    for row in claims_db.claims().values():
        assert claims_db.history(row.id) == [
            "built",
            "submitted",
            "accepted",
            "acknowledged",
            "paid",
        ]


def test_a_line_priced_beyond_what_it_can_bill_is_held_never_sent(claims_db: ClaimsDb) -> None:
    # Units of 10^30 no longer pass the event contract (shared/events/bounds.py: at most 9,999
    # a line); the largest units at the largest chargemaster price still bill beyond a line.
    def most_units_at_the_highest_price(item: dict[str, Any]) -> None:
        coded = item["coding"]["procedures"][0]
        coded["units"] = 9999
        priced = next(c for c in item["encounter"]["charges"] if c.get("code") == coded["code"])
        priced["charge"], priced["units"] = "9999999.99", 1

    def not_on_chargemaster(item: dict[str, Any]) -> None:
        item["coding"]["procedures"][0]["code"] = "99215"

    claims_db.payer()
    claims_db.code(
        [
            coded_event(0, "HUGE", most_units_at_the_highest_price),
            coded_event(0, "ZERO", not_on_chargemaster),
            coded_event(0, "FINE"),
        ]
    )
    claims_db.run(claims_db.submitter(), later(1))

    claims = claims_db.claims()
    assert {k: r.status for k, r in claims.items()} == {
        "HUGE": "held",
        "ZERO": "held",
        "FINE": "paid",
    }
    assert "LINE_CHARGE" in claims["HUGE"].findings
    assert "LINE_CHARGE" in claims["ZERO"].findings


def test_a_claim_that_cannot_be_built_is_held_with_a_finding(
    claims_db: ClaimsDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.claims.handlers as handlers

    def broken(*_: Any) -> Any:
        raise ArithmeticError("1968-04-12 Maria Sample")

    monkeypatch.setattr(handlers, "coded_document", broken)
    claims_db.payer()
    claims_db.code([coded_event(0, "B")])

    row = claims_db.claims()["B"]
    assert row.status == "held"
    assert "CLAIM_NOT_BUILT" in row.findings and "ArithmeticError" in row.findings
    assert "Maria" not in row.findings and "1968" not in row.findings
    assert asyncio.run(claims_db.submitter().submit_pending(later(5))) == 0
