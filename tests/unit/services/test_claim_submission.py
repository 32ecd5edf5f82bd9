"""A built claim goes to the (simulated) payer; its answers are recorded once, with reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from services.claims.db import TABLES, ClaimRow, ClaimsRepository, PayerResponse, PayerRow
from services.claims.handlers import (
    ReservedControlNumbers,
    build_and_scrub,
    coded_document,
    patient_control_number,
)
from services.claims.submission import exchange_with_payer, record_exchange
from shared.db import Database
from shared.events.claims import ClaimStatusChanged
from shared.events.envelope import Envelope
from shared.outbox import OutboxEvent
from shared.settings import ChartflowSettings
from tests.unit.services.test_handlers import _coded

WHEN = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)


def _built_row(index: int) -> ClaimRow:
    coded = _coded(index)
    pcn = patient_control_number(coded.encounter_key, 1)
    document = coded_document(coded, pcn)
    payer = PayerRow(
        payer_id="ACMEHLTH",
        name="Acme Health Plan",
        claim_types="professional,institutional",
        receiver_id="ACMEHLTH",
    )
    built = build_and_scrub(document, payer, ReservedControlNumbers(7, 7, 7), WHEN)
    assert not built.held, built.findings
    return ClaimRow(
        id=f"claim-{index}",
        encounter_key=coded.encounter_key,
        hospital_id=coded.hospital_id,
        patient_control_number=pcn,
        claim_type="professional",
        payer_id="ACMEHLTH",
        total_charge=str(built.claim.total_charge if built.claim else 0),
        status="built",
        reason="built",
        findings="[]",
        x12=built.x12,
        interchange_control_number=7,
        document=json.dumps(document),
    )


def test_payer_answers_move_the_claim_to_paid_with_line_adjustments() -> None:
    row = _built_row(0)

    exchange = exchange_with_payer(row, '{"default": {"action": "reduce", "percent": 10}}', WHEN)

    assert [t.target.value for t in exchange.transitions] == [
        "submitted",
        "accepted",
        "acknowledged",
        "paid",
    ]
    assert exchange.outcome is not None
    assert exchange.outcome.paid == Decimal("297.00")  # 330.00 less 10% (CO-45)
    line = exchange.outcome.lines[f"{row.patient_control_number}-1"]
    assert [(a.group, a.reason, a.amount) for a in line.adjustments] == [
        ("CO", "45", Decimal("18.50"))
    ]


def test_a_denied_claim_keeps_the_carc_in_its_reason() -> None:
    exchange = exchange_with_payer(
        _built_row(1), '{"default": {"action": "deny", "carc": "50"}}', WHEN
    )

    assert exchange.transitions[-1].target.value == "denied"
    assert "CO-50" in exchange.transitions[-1].reason


def test_recording_an_exchange_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'claims.db'}", [*TABLES, OutboxEvent])
    db.create_all()
    row = _built_row(0)
    db.run_sync(lambda s: s.add(row))
    exchange = exchange_with_payer(row, "{}", WHEN)
    settings = ChartflowSettings(service_name="claims")

    for _ in range(2):
        db.run_sync(lambda s: record_exchange(s, settings, row.id, exchange))

    with db.session() as session:
        repo = ClaimsRepository(session)
        stored = repo.claim(row.id)
        assert stored is not None and stored.status == "paid"
        assert stored.paid == stored.total_charge
        assert len(repo.transitions(row.id)) == 4
        assert len(list(session.exec(PayerResponse.__table__.select()))) == 3  # type: ignore[attr-defined]
        rows = session.exec(OutboxEvent.__table__.select())  # type: ignore[attr-defined]
        events = [Envelope.model_validate_json(e.payload) for e in rows]
    assert [e.data["status"] for e in events] == [
        "submitted",
        "accepted",
        "acknowledged",
        "paid",
    ]
    assert events[-1].payload(ClaimStatusChanged).paid == Decimal("330.00")
    db.close()
