"""Intake follows every claim version of an encounter and queues billing-caused denials."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from services.intake import handlers
from services.intake.api import EncounterView
from services.intake.claim_chain import WorkItemNotFound, read_work_queue, resolve_work_item
from services.intake.claims_db import ClaimChain
from services.intake.db import TABLES, Encounter, IntakeRepository
from shared import migrations
from shared.db import Database
from shared.events.claims import ClaimStatusChanged, TriagedLine, TriageItem
from shared.events.envelope import Envelope
from shared.outbox import OutboxEvent, ProcessedEvent
from shared.settings import ChartflowSettings

KEY = "h1:E1"
CO11 = TriageItem(
    source="835",
    cause="coding",
    code="CO-11",
    meaning="The diagnosis is inconsistent with the procedure",
    group="CO",
    carc="11",
    lines=[TriagedLine(line_id="CF1-1", number=1, procedure_code="99214")],
    amount=Decimal("185.00"),
)
CO31 = TriageItem(
    source="835", cause="billing", code="CO-31", meaning="not our insured", group="CO", carc="31"
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(
        f"sqlite:///{tmp_path / 'intake.db'}", [*TABLES, OutboxEvent, ProcessedEvent]
    )
    migrations.upgrade(database, "intake")
    for hospital in ("h1", "h2"):
        database.run_sync(
            lambda s, h=hospital: s.add(
                Encounter(
                    hospital_id=h,
                    external_id="E1",
                    encounter_key=f"{h}:E1",
                    encounter_class="professional",
                    document="{}",
                )
            )
        )
    yield database
    database.close()


SETTINGS = ChartflowSettings(service_name="intake")


def status(claim: str, version: int, step: int, state: str, **extra: object) -> Envelope:
    change = ClaimStatusChanged(
        encounter_key=KEY,
        claim_id=claim,
        patient_control_number=f"CF{version}",
        claim_type="professional",
        status=state,
        total_charge=Decimal("330.00"),
        reason=f"{state} for a reason",
        version=version,
        **extra,  # type: ignore[arg-type]
    )
    return Envelope.wrap(
        change, source="claims", subject=KEY, tenant="h1", id=f"claim-CF{version}-{step}-{state}"
    )


def feed(db: Database, *envelopes: Envelope) -> None:
    for envelope in envelopes:
        db.run_sync(lambda s, e=envelope: handlers.record_claim_status(s, e))


def view(db: Database) -> EncounterView:
    with db.session() as s:
        row = IntakeRepository(s).encounter_by_key(KEY)
        assert row is not None
        return EncounterView.of(row, ClaimChain(s).versions([KEY])[KEY])


def test_the_hospital_sees_both_claim_versions_each_with_its_history(db: Database) -> None:
    denied = status("c1", 1, 4, "partially_paid", payer_claim_id="PCF1", triage=[CO11])
    feed(db, status("c1", 1, 0, "built"), status("c1", 1, 1, "submitted"), denied)
    replacement = {"frequency": "7", "replaces_claim_id": "c1", "payer_claim_id": None}
    feed(db, status("c2", 2, 0, "built", **replacement))
    feed(db, status("c2", 2, 1, "paid", paid=Decimal("330.00"), **replacement))
    feed(db, denied)  # redelivered: nothing twice

    seen = view(db)
    assert [(c.version, c.frequency, c.status) for c in seen.claims] == [
        (1, "1", "partially_paid"),
        (2, "7", "paid"),
    ]
    first, second = seen.claims
    assert [h["status"] for h in first.history] == ["built", "submitted", "partially_paid"]
    assert [h["status"] for h in second.history] == ["built", "paid"]
    assert second.replaces_claim_id == "c1" and first.payer_claim_id == "PCF1"
    assert first.triage[0]["code"] == "CO-11" and first.triage[0]["lines"][0]["number"] == 1
    assert seen.claim.status == "paid" and seen.claim.claim_id == "c2"
    assert not ClaimChain(db.session()).work_items("h1", None, 10)  # coding work is not billing


def test_a_billing_denial_goes_to_the_hospitals_work_queue_only(db: Database) -> None:
    feed(db, status("c1", 1, 3, "denied", triage=[CO31]))
    feed(db, status("c1", 1, 3, "denied", triage=[CO31]))  # redelivered

    mine = db.run_sync(lambda s: read_work_queue(s, SETTINGS, "h1", "/v1/work-queue", "open", 10))
    theirs = db.run_sync(lambda s: read_work_queue(s, SETTINGS, "h2", "/v1/work-queue", None, 10))
    assert [(i.claim_id, i.claim_status) for i in mine] == [("c1", "denied")]
    assert '"CO-31"' in mine[0].items and theirs == []
    with pytest.raises(WorkItemNotFound):
        db.run_sync(lambda s: resolve_work_item(s, SETTINGS, "h2", mine[0].id, "route"))

    done = db.run_sync(lambda s: resolve_work_item(s, SETTINGS, "h1", mine[0].id, "route"))
    assert done.status == "resolved"
    left = db.run_sync(lambda s: read_work_queue(s, SETTINGS, "h1", "/v1/work-queue", "open", 10))
    assert left == []
