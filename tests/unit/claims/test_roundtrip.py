from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from services.claims.domain import (
    ClaimLifecycle,
    ClaimStatus,
    IllegalTransition,
    InMemoryControlNumbers,
    apply_277ca,
    apply_835,
    apply_999,
    apply_findings,
    build_837,
    index_837,
    mark_submitted,
    read_277ca,
    read_835,
    read_999,
    scrub,
    validate_x12,
)
from services.claims.domain.tracking import UnknownClaim
from services.claims.payer_sim import Adjudication, LineDecision, PayerSimulator

from .conftest import WHEN


def test_claims_through_the_payer_to_paid_denied_and_rejected(example_claims) -> None:
    claims = [c for c in example_claims if not c.is_inpatient][:4]
    claims += [c for c in example_claims if c.is_inpatient][:1]
    ours = {c.patient_control_number: c for c in claims}
    paid, partial, denied, rejected, reduced = claims
    adjudication = Adjudication(
        claims={
            denied.patient_control_number: LineDecision("deny", carc="50"),
            reduced.patient_control_number: LineDecision("reduce", percent=Decimal(20)),
        },
        lines={partial.lines[0].line_id: LineDecision("deny", carc="16")},
        reject={rejected.patient_control_number: "A7:21"},
    )
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    index = index_837(text)
    lives = {pcn: ClaimLifecycle(pcn) for pcn in ours}
    assert apply_findings(lives, scrub(text, claims)) == []
    mark_submitted(lives, index, "ISA 1")

    answers = PayerSimulator(adjudication).receive(text, datetime(2026, 3, 24, 8, 0))
    assert answers.ack_277ca and answers.remit_835
    for response in (answers.ack_999, answers.ack_277ca, answers.remit_835):
        ok, errors = validate_x12(response)
        assert ok, errors[:3]

    apply_999(lives, read_999(answers.ack_999), index)
    assert {life.status for life in lives.values()} == {ClaimStatus.ACCEPTED}
    apply_277ca(lives, read_277ca(answers.ack_277ca))
    assert lives[rejected.patient_control_number].status is ClaimStatus.REJECTED
    assert "A7:21" in lives[rejected.patient_control_number].reason
    outcomes = {
        o.patient_control_number: o for o in apply_835(lives, read_835(answers.remit_835), ours)
    }

    assert lives[paid.patient_control_number].status is ClaimStatus.PAID
    assert outcomes[paid.patient_control_number].paid == paid.total_charge
    assert lives[denied.patient_control_number].status is ClaimStatus.DENIED
    assert "CO-50" in lives[denied.patient_control_number].reason
    assert lives[partial.patient_control_number].status is ClaimStatus.PARTIALLY_PAID
    denied_line = outcomes[partial.patient_control_number].lines[partial.lines[0].line_id]
    assert denied_line.paid == 0
    assert [(a.group, a.reason) for a in denied_line.adjustments] == [("CO", "16")]
    assert lives[reduced.patient_control_number].status is ClaimStatus.PAID
    for line in reduced.lines:
        got = outcomes[reduced.patient_control_number].lines[line.line_id]
        cut = (line.charge * Decimal("0.2")).quantize(Decimal("0.01"))
        assert got.paid == line.charge - cut
        assert [(a.group, a.reason, a.amount) for a in got.adjustments] == [("CO", "45", cut)]
    assert [t.target for t in lives[paid.patient_control_number].history] == [
        ClaimStatus.SUBMITTED,
        ClaimStatus.ACCEPTED,
        ClaimStatus.ACKNOWLEDGED,
        ClaimStatus.PAID,
    ]


def test_a_999_rejection_names_the_broken_segment(example_claims) -> None:
    claims = example_claims[:2]
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    text = text.replace("DTP*472*D8*2026", "DTP*472*D8*2026-", 1)
    index = index_837(text)
    lives = {c.patient_control_number: ClaimLifecycle(c.patient_control_number) for c in claims}
    mark_submitted(lives, index, "ISA 1")
    answers = PayerSimulator().receive(text, datetime(2026, 3, 24, 8, 0))
    assert validate_x12(answers.ack_999)[0]
    assert answers.ack_277ca is None and answers.remit_835 is None
    apply_999(lives, read_999(answers.ack_999), index)
    for life in lives.values():
        assert life.status is ClaimStatus.REJECTED
        assert "DTP" in life.reason


def test_illegal_transitions_raise_with_the_allowed_moves() -> None:
    life = ClaimLifecycle("CF1")
    with pytest.raises(IllegalTransition, match="cannot go from built to paid"):
        life.move(ClaimStatus.PAID, "835")
    life.move(ClaimStatus.HELD, "DX_INVALID")
    with pytest.raises(IllegalTransition, match="may go to built"):
        life.move(ClaimStatus.SUBMITTED, "send")
    assert life.history[-1].reason == "DX_INVALID"


def test_a_999_with_several_bad_elements_in_one_segment_reports_each() -> None:
    ack = (
        "ISA*00*          *00*          *ZZ*RCV            *ZZ*CHARTFLOW      *260324*0800*^*00501"
        "*000500001*0*P*:~GS*FA*RCV*CHARTFLOW*20260324*0800*1*X*005010X231A1~"
        "ST*999*0001*005010X231A1~AK1*HC*1*005010X223A2~AK2*837*0001*005010X223A2~"
        "IK3*DTP*31**8~IK4*2**7*XX~IK4*3**8*2026-13~IK5*R*5~AK9*R*1*1*0~SE*9*0001~"
        "GE*1*1~IEA*1*000500001~"
    )

    [group] = read_999(ack)
    [transaction] = group.transactions

    assert [
        (e.seg_id, e.element, e.element_code, e.bad_value) for e in transaction.segment_errors
    ] == [
        ("DTP", "2", "7", "XX"),
        ("DTP", "3", "8", "2026-13"),
    ]


def test_an_835_without_a_277ca_still_pays_and_an_unknown_claim_moves_nothing(
    example_claims,
) -> None:
    claims = [c for c in example_claims if not c.is_inpatient][:2]
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    index = index_837(text)
    answers = PayerSimulator().receive(text, datetime(2026, 3, 24, 8, 0))
    assert answers.remit_835
    lives = {c.patient_control_number: ClaimLifecycle(c.patient_control_number) for c in claims}
    mark_submitted(lives, index, "ISA 1")
    apply_999(lives, read_999(answers.ack_999), index)

    only_first = {claims[0].patient_control_number: claims[0]}
    with pytest.raises(UnknownClaim):
        apply_835(lives, read_835(answers.remit_835), only_first)
    assert {life.status for life in lives.values()} == {ClaimStatus.ACCEPTED}

    apply_835(lives, read_835(answers.remit_835), {c.patient_control_number: c for c in claims})
    assert {life.status for life in lives.values()} == {ClaimStatus.PAID}
