"""The chaos run's verdict: what counts as a duplicate, lost or stuck encounter."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from deploy.demo.driver import Scenario
from services.claims.corpus import load_examples
from services.claims.domain import build_837
from services.claims.domain.control import InMemoryControlNumbers
from services.claims.payers import PayerLedger
from tests.chaos.observer import PipelineObserver
from tests.chaos.verdict import PayerTally, billed_interchanges, judge
from tests.stack import Stack

WHEN = datetime(2026, 9, 14, 9, 0)


class FakeScenario:
    """What the hospital and the claims service would answer, per encounter key."""

    def __init__(
        self, claims: dict[str, list[dict[str, Any]]], statuses: dict[str, str | None]
    ) -> None:
        self.claims = claims
        self.statuses = statuses

    def encounter(self, encounter_id: str) -> dict[str, Any]:
        return {"claim": {"status": self.statuses.get(encounter_id)}}

    def claims_for(self, encounter_key: str) -> list[dict[str, Any]]:
        return self.claims.get(encounter_key, [])


def _claim(claim_id: str, pcn: str, status: str = "paid", version: int = 1) -> dict[str, Any]:
    return {"id": claim_id, "patient_control_number": pcn, "status": status, "version": version}


def _observer() -> PipelineObserver:
    observer = PipelineObserver(Stack(kafka="-", temporal="-", database_url=None), "t.")
    observer.past["received"] |= {"k-lost"}
    return observer


def test_the_ledger_names_every_claim_of_each_interchange_the_payer_took(tmp_path: Path) -> None:
    claims = [c for example in load_examples() for c in example.claims()][:3]
    ledger = PayerLedger(tmp_path / "ledger.jsonl")
    first = build_837(claims, InMemoryControlNumbers(interchange=6), "CHARTFLOW", "RCV", WHEN)
    ledger.record("ACME", first)
    ledger.record("ACME", first)  # resent as is: the same interchange
    ledger.record("ACME", build_837(claims[:1], InMemoryControlNumbers(8), "CHARTFLOW", "R", WHEN))

    billed = billed_interchanges(tmp_path / "ledger.jsonl")

    pcns = [c.patient_control_number for c in claims]
    assert billed == {
        pcns[0]: {"ACME:000000007", "ACME:000000009"},
        pcns[1]: {"ACME:000000007"},
        pcns[2]: {"ACME:000000007"},
    }


def test_duplicates_lost_and_stuck_are_told_apart(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text(
        '{"payer": "P", "isa13": "1", "claims": ["PCN-OK", "PCN-TWICE", "PCN-RESENT"]}\n'
        '{"payer": "P", "isa13": "1", "claims": ["PCN-RESENT"]}\n'
        '{"payer": "P", "isa13": "2", "claims": ["PCN-TWICE"]}\n'
    )
    claims = {
        "k-ok": [_claim("c1", "PCN-OK")],
        "k-two-claims": [_claim("c2", "PCN-A"), _claim("c3", "PCN-B")],
        "k-billed-twice": [_claim("c4", "PCN-TWICE")],
        "k-resent": [_claim("c5", "PCN-RESENT")],
        "k-stuck": [_claim("c6", "PCN-S", status="submitted")],
        "k-corrected": [_claim("c7", "PCN-C1", "denied"), _claim("c8", "PCN-C2", version=2)],
        "k-gap": [_claim("c9", "PCN-G1", "denied"), _claim("c10", "PCN-G3", version=3)],
    }
    statuses = {key: "paid" for key in claims} | {"k-stuck": "submitted", "k-lost": None}
    accepted = {key: {"id": key, "encounter_key": key} for key in [*claims, "k-lost"]}
    observer = _observer()
    observer.claim_ids["k-ok"] = {"c1": 1, "c-announced-too": 1}  # a second claim on Kafka
    observer.claim_ids["k-corrected"] = {"c7": 1, "c8": 2}  # the replacement, announced

    verdict = judge(cast(Scenario, FakeScenario(claims, statuses)), 9, accepted, observer, ledger)

    assert (verdict.pushed, verdict.accepted, verdict.claims, verdict.corrected) == (9, 8, 7, 3)
    # two claims of one version; billed in two interchanges; announced twice; version 2 missing
    assert verdict.duplicates == 4
    assert (verdict.lost, verdict.stuck) == (1, 1)
    assert verdict.unfinished == {"received": 1, "claim submitted": 1}
    assert not verdict.passed(7)


def test_the_payer_tally_shows_batches_taken_over_after_a_crash(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    isa13s = ["000000001", "000000003", "000000003", "000000004", "000000002"]
    ledger.write_text("".join(f'{{"payer": "P", "isa13": "{n}", "claims": []}}\n' for n in isa13s))

    assert PayerTally.of(ledger) == PayerTally(interchanges=5, resent=1, late=1)


def test_a_coding_caused_denial_is_not_final_until_its_replacement_is(tmp_path: Path) -> None:
    observer = _observer()
    topic = "t.claims.status"

    def announce(claim_id: str, version: int, status: str, cause: str | None = None) -> None:
        triage = [{"cause": cause}] if cause else []
        data = {"claim_id": claim_id, "version": version, "status": status, "triage": triage}
        observer._see(topic, "k", json.dumps({"data": data}).encode())

    announce("c1", 1, "denied", cause="coding")
    assert "k" not in observer.final_at
    announce("c2", 2, "submitted")
    assert "k" not in observer.final_at
    announce("c2", 2, "paid")
    assert "k" in observer.final_at
    assert observer.claim_ids["k"] == {"c1": 1, "c2": 2}
