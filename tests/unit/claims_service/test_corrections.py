"""Denials travel classified; corrected claims replace the one before; admins void claims."""

from __future__ import annotations

import pytest

from services.claims.db import ClaimRow
from services.claims.documents import patient_control_number
from services.claims.domain import validate_x12
from services.claims.payer_sim import read_837
from services.claims.views import claim_837
from services.claims.voids import NotVoidable, void_claim
from shared.events.envelope import Envelope

from .conftest import ClaimsDb, coded_event, later

CO11_ON_ORIGINALS = {
    "scenarios": [{"match": {"frequency": "1"}, "action": "deny", "carc": "11", "lines": [1]}]
}


def corrected(index: int, key: str, version: int) -> Envelope:
    """The same encounter coded again (a rework), billed as claim version `version`."""
    envelope = coded_event(index, key)
    data = {**envelope.data, "claim_version": version}
    return envelope.model_copy(update={"data": data, "id": f"{envelope.id}-v{version}"})


def versions(claims_db: ClaimsDb, key: str) -> list[ClaimRow]:
    with claims_db.db.session() as s:
        from sqlmodel import select

        query = select(ClaimRow).where(ClaimRow.encounter_key == f"h:{key}")
        return sorted(s.exec(query), key=lambda r: r.version)


def sent_837(claims_db: ClaimsDb, row: ClaimRow) -> str:
    return claims_db.db.run_sync(lambda s: claim_837(s, row))


def test_a_co11_denial_travels_classified_with_its_line(claims_db: ClaimsDb) -> None:
    claims_db.payer(CO11_ON_ORIGINALS)
    claims_db.code([coded_event(0, "D")])
    claims_db.run(claims_db.submitter(), later(1))

    row = claims_db.claims()["D"]
    assert row.status == "partially_paid" and row.payer_claim_id
    [denied] = [e for e in claims_db.events() if e["status"] == "partially_paid"]
    [item] = [t for t in denied["triage"] if t["cause"] == "coding"]
    assert item["code"] == "CO-11" and item["source"] == "835"
    assert [ln["number"] for ln in item["lines"]] == [1]
    assert item["lines"][0]["procedure_code"]  # the code the coder billed on it
    assert denied["payer_claim_id"] == row.payer_claim_id and denied["version"] == 1


def test_the_rework_is_a_replacement_claim_that_pyx12_passes_and_the_payer_pays(
    claims_db: ClaimsDb,
) -> None:
    claims_db.payer(CO11_ON_ORIGINALS)
    claims_db.code([coded_event(0, "R")])
    claims_db.run(claims_db.submitter(), later(1))
    claims_db.code([corrected(0, "R", 2)], at=later(2))
    claims_db.run(claims_db.submitter(), later(3))

    first, second = versions(claims_db, "R")
    assert (second.version, second.frequency, second.replaces_claim_id) == (2, "7", first.id)
    assert second.status == "paid" and first.status == "partially_paid"
    x12 = sent_837(claims_db, second)
    ok, errors = validate_x12(x12)
    assert ok, errors[:3]
    (inbound,) = read_837(x12).claims
    assert (inbound.frequency, inbound.original_reference) == ("7", first.payer_claim_id)
    assert second.patient_control_number != first.patient_control_number
    assert "replaces payer claim" in claims_db.history_reasons(second.id)[0]


def test_a_rework_after_a_277ca_rejection_is_billed_as_a_new_original(
    claims_db: ClaimsDb,
) -> None:
    first_pcn = patient_control_number("h:J", 1)
    claims_db.payer(
        {
            "scenarios": [
                {
                    "match": {"patient_control_number": first_pcn},
                    "action": "reject_277ca",
                    "status": "A7:255",
                }
            ]
        }
    )
    claims_db.code([coded_event(0, "J")])
    claims_db.run(claims_db.submitter(), later(1))
    [rejected] = versions(claims_db, "J")
    assert rejected.status == "rejected" and '"cause": "coding"' in rejected.triage

    claims_db.code([corrected(0, "J", 2)], at=later(2))
    claims_db.run(claims_db.submitter(), later(3))
    [_, second] = versions(claims_db, "J")
    assert (second.frequency, second.replaces_claim_id) == ("1", rejected.id)
    assert second.status == "paid"
    (inbound,) = read_837(sent_837(claims_db, second)).claims
    assert (inbound.frequency, inbound.original_reference) == ("1", "")


def test_a_contractual_reduction_and_a_registration_denial_are_not_coding(
    claims_db: ClaimsDb,
) -> None:
    claims_db.payer({"default": {"action": "reduce", "percent": 15}})
    claims_db.code([coded_event(0, "P")])
    claims_db.run(claims_db.submitter(), later(1))
    causes = {t["code"]: t["cause"] for e in claims_db.events() for t in e["triage"]}
    assert causes == {"CO-45": "payer"}

    claims_db.payer({"default": {"action": "deny", "carc": "31"}})
    claims_db.code([coded_event(1, "E")], at=later(2))
    claims_db.run(claims_db.submitter(), later(3))
    denied = [e for e in claims_db.events() if e["status"] == "denied"]
    assert [(t["code"], t["cause"]) for t in denied[0]["triage"]] == [("CO-31", "billing")]


def test_an_admin_voids_a_paid_claim_and_both_end_voided(claims_db: ClaimsDb) -> None:
    claims_db.payer()
    claims_db.code([coded_event(0, "V")])
    claims_db.run(claims_db.submitter(), later(1))
    [paid] = versions(claims_db, "V")
    assert paid.status == "paid"

    void = claims_db.db.run_sync(lambda s: void_claim(s, claims_db.settings, paid.id))
    assert (void.version, void.frequency, void.status) == (2, "8", "built")
    claims_db.db.run_sync(lambda s: _ready(s, void.id))
    claims_db.run(claims_db.submitter(), later(2))

    original, voided = versions(claims_db, "V")
    assert voided.status == "voided" and original.status == "voided"
    (inbound,) = read_837(sent_837(claims_db, voided)).claims
    assert (inbound.frequency, inbound.original_reference) == ("8", paid.payer_claim_id)
    statuses = [(e["version"], e["status"]) for e in claims_db.events()]
    assert statuses[-2:] == [(2, "voided"), (1, "voided")]


def test_only_the_newest_adjudicated_version_can_be_voided(claims_db: ClaimsDb) -> None:
    claims_db.payer(CO11_ON_ORIGINALS)
    claims_db.code([coded_event(0, "N")])
    claims_db.run(claims_db.submitter(), later(1))
    claims_db.code([corrected(0, "N", 2)], at=later(2))
    first, second = versions(claims_db, "N")
    with pytest.raises(NotVoidable, match="version 2 is the encounter's newest"):
        claims_db.db.run_sync(lambda s: void_claim(s, claims_db.settings, first.id))
    with pytest.raises(NotVoidable, match="is built"):
        claims_db.db.run_sync(lambda s: void_claim(s, claims_db.settings, second.id))


def _ready(session, claim_id: str) -> None:
    row = session.get(ClaimRow, claim_id)
    row.next_attempt_at = later(2)
    session.add(row)
