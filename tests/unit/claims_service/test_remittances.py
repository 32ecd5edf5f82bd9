"""An 835 with a reversal (CLP02 22), a corrected payment and PLB adjustments, applied."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from services.claims.db import ClaimRow, ProviderAdjustmentRow, RemittanceRow
from services.claims.domain import (
    IllegalTransition,
    Separators,
    UnknownClaim,
    read_835,
    validate_x12,
)
from services.claims.domain.x12 import SegmentWriter, isa_segment, money
from services.claims.remittances import receive_remittance

from .conftest import ClaimsDb, coded_event, later

WHEN = datetime(2026, 10, 2, 7, 30)
PAYEE_NPI = "1234567893"


def remittance_835(reversed_row: ClaimRow, corrected_paid: Decimal, recovered_from: str) -> str:
    """A later 835: takes back `reversed_row`'s payment, pays it again (less), withholds an
    overpayment recovery (WO) and adds interest (L6), as a payer sends them."""
    seps = Separators()
    w = SegmentWriter(seps)
    w.add_raw(isa_segment(seps, "ACMEHLTH", "CHARTFLOW", WHEN, 777001))
    w.add("GS", "HP", "ACMEHLTH", "CHARTFLOW", "20261002", "0730", "777001", "X", "005010X221A1")
    w.add("ST", "835", "0001")
    start = len(w)
    charge, paid = Decimal(reversed_row.total_charge), Decimal(reversed_row.paid or 0)
    recovery, interest = Decimal("25.00"), Decimal("-3.10")
    total = -paid + corrected_paid - recovery - interest  # BPR02 = CLP04s - PLB amounts
    w.add("BPR", "I", money(total), "C", "CHK", *[""] * 11, "20261002")
    w.add("TRN", "1", "CHK777001", "1999999999")
    w.add("DTM", "405", "20261002")
    w.add("N1", "PR", "ACME HEALTH PLAN")
    w.add("N3", "1 PAYER PLAZA")
    w.add("N4", "HARTFORD", "CT", "061010001")
    w.add("PER", "BL", "PROVIDER SERVICES", "TE", "8005550199")
    w.add("N1", "PE", "DEMO CLINIC", "XX", PAYEE_NPI)
    w.add("LX", "1")
    pcn, payer_claim = reversed_row.patient_control_number, reversed_row.payer_claim_id or ""
    w.add("CLP", pcn, "22", money(-charge), money(-paid), "", "12", payer_claim, "11", "1")
    w.add("NM1", "QC", "1", "SAMPLE", "MARIA", "", "", "", "MI", "ACM100200301")
    w.add("CLP", pcn, "1", money(charge), money(corrected_paid), "", "12", payer_claim, "11", "1")
    w.add("CAS", "CO", "45", money(charge - corrected_paid))
    w.add("NM1", "QC", "1", "SAMPLE", "MARIA", "", "", "", "MI", "ACM100200301")
    w.add("MOA", "", "", "N130")
    lines = json.loads(reversed_row.remittance or "{}")
    first = sorted(lines)[0]
    w.add("SVC", w.composite("HC", "99214", "25"), "185", money(corrected_paid - 145), "", "1")
    w.add("REF", "6R", first)
    w.add("LQ", "HE", "N381")
    w.add("PLB", PAYEE_NPI, "20261231", w.composite("WO", recovered_from), "25", "L6", "-3.1")
    w.add("SE", str(len(w) - start + 2), "0001")
    w.add("GE", "1", "777001")
    w.add("IEA", "1", "000777001")
    return w.text()


@pytest.fixture
def paid(claims_db: ClaimsDb) -> dict[str, ClaimRow]:
    claims_db.payer({"default": {"action": "reduce", "percent": 15}})  # A is paid 280.50
    claims_db.code([coded_event(0, "A"), coded_event(1, "B")])
    claims_db.run(claims_db.submitter(), later(1))
    claims = claims_db.claims()
    assert {r.status for r in claims.values()} == {"paid"}
    return claims


def test_the_835_passes_pyx12_and_reads_reversal_remarks_and_plb(
    paid: dict[str, ClaimRow],
) -> None:
    text = remittance_835(paid["A"], Decimal("320.00"), paid["B"].payer_claim_id or "")

    ok, errors = validate_x12(text)
    [remit] = read_835(text)

    assert ok, errors[:3]
    reversal, corrected = remit.claims
    assert reversal.is_reversal and reversal.paid == -Decimal(paid["A"].paid or 0)
    assert not corrected.is_reversal and corrected.remarks == ["N130"]
    assert corrected.lines[0].remarks == ["N381"]
    assert [(a.reason, a.reference, a.amount) for a in remit.provider_adjustments] == [
        ("WO", paid["B"].payer_claim_id, Decimal("25")),
        ("L6", "", Decimal("-3.1")),
    ]
    assert remit.balances


def test_a_reversal_takes_the_payment_back_and_the_correction_pays_again(
    claims_db: ClaimsDb, paid: dict[str, ClaimRow]
) -> None:
    text = remittance_835(paid["A"], Decimal("320.00"), paid["B"].payer_claim_id or "")
    settings = claims_db.settings

    receipt = claims_db.db.run_sync(lambda s: receive_remittance(s, settings, "ACMEHLTH", text))
    again = claims_db.db.run_sync(lambda s: receive_remittance(s, settings, "ACMEHLTH", text))

    assert (receipt.remittances, receipt.claims_moved, receipt.provider_adjustments) == (1, 2, 2)
    assert (again.remittances, again.claims_moved) == (0, 0)  # an 835 is applied once
    claims = claims_db.claims()
    a = claims["A"]
    assert claims_db.history(a.id)[-3:] == ["paid", "reversed", "paid"]
    assert a.paid == "320.00" and "CO-45" in a.reason
    assert json.loads(a.remittance or "{}")[f"{a.patient_control_number}-1"]["remarks"] == ["N381"]
    assert claims["B"].status == "paid" and claims["B"].paid == paid["B"].paid  # PLB is not B's
    events = [e for e in claims_db.events() if e["claim_id"] == a.id]
    assert [(e["status"], e["paid"]) for e in events[-2:]] == [
        ("reversed", "0.00"),
        ("paid", "320.00"),
    ]
    with claims_db.db.session() as s:
        [remit] = [r for r in s.exec(select(RemittanceRow)) if r.trace_number == "CHK777001"]
        plb = list(s.exec(select(ProviderAdjustmentRow)))
    assert remit.provider_adjustment_total == "21.9" and remit.payer_id == "ACMEHLTH"
    assert sorted((p.reason, p.amount) for p in plb) == [("L6", "-3.1"), ("WO", "25")]


def test_an_835_for_a_claim_never_sent_or_never_paid_changes_nothing(
    claims_db: ClaimsDb, paid: dict[str, ClaimRow]
) -> None:
    settings = claims_db.settings
    text = remittance_835(paid["A"], Decimal("320.00"), "X")
    stranger = text.replace(paid["A"].patient_control_number, "CFNOTOURS0000001")
    with pytest.raises(UnknownClaim):
        claims_db.db.run_sync(lambda s: receive_remittance(s, settings, "ACMEHLTH", stranger))

    claims_db.code([coded_event(0, "NEW")], at=later(5))  # built, never paid
    new = claims_db.claims()["NEW"]
    unpaid = text.replace(paid["A"].patient_control_number, new.patient_control_number)
    unpaid = unpaid.replace(
        f"REF*6R*{paid['A'].patient_control_number}", f"REF*6R*{new.patient_control_number}"
    )
    with pytest.raises(IllegalTransition):
        claims_db.db.run_sync(lambda s: receive_remittance(s, settings, "ACMEHLTH", unpaid))

    claims = claims_db.claims()
    assert claims["A"].status == "paid" and claims["A"].paid == paid["A"].paid
    assert claims["NEW"].status == "built"
    with claims_db.db.session() as s:
        assert [r.trace_number for r in s.exec(select(RemittanceRow))].count("CHK777001") == 0
