"""The claims service on a real (SQLite) database: coded events in, batches to a payer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from services.claims.db import TABLES, ClaimBatch, ClaimRow, ClaimTransition, PayerRow
from services.claims.handlers import record_coded
from services.claims.settings import ClaimsSettings
from services.claims.submission import ClaimSubmitter
from shared import migrations
from shared.db import Database
from shared.events.assignment import EncounterCoded
from shared.events.claims import ClaimStatusChanged
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import Envelope
from shared.events.intake import BillingProvider, EncounterDocument
from shared.outbox import OutboxEvent, ProcessedEvent

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())
T0 = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)


def coded_event(
    index: int, key: str, change: Callable[[dict[str, Any]], None] | None = None
) -> Envelope:
    """The demo's encounter `index % 5`, coded, as an `encounters.coded` event."""
    item = deepcopy(DEMO["encounters"][index % len(DEMO["encounters"])])
    item["encounter"]["external_id"] = key
    if change:
        change(item)
    hospital = DEMO["hospital"]
    coded = EncounterCoded(
        encounter_key=f"h:{key}",
        hospital_id="h",
        billing_provider=BillingProvider.model_validate(
            {k: hospital[k] for k in ("name", "npi", "tax_id", "address")}
        ),
        encounter=EncounterDocument.model_validate(item["encounter"]),
        diagnoses=[DiagnosisCode.model_validate(d) for d in item["coding"]["diagnoses"]],
        procedures=[ProcedureCode.model_validate(p) for p in item["coding"]["procedures"]],
        coder_id="c1",
    )
    return Envelope.wrap(coded, source="test", subject=coded.encounter_key, tenant="h")


class ClaimsDb:
    def __init__(self, db: Database, settings: ClaimsSettings) -> None:
        self.db = db
        self.settings = settings

    def payer(self, simulator: dict[str, Any] | None = None, payer_id: str = "ACMEHLTH") -> None:
        row = PayerRow(
            payer_id=payer_id,
            name="Acme Health Plan",
            claim_types="professional,institutional",
            receiver_id=payer_id,
            simulator=json.dumps(simulator or {}),
        )
        self.db.run_sync(lambda s: s.merge(row))

    def code(self, events: list[Envelope], at: datetime = T0) -> None:
        for envelope in events:
            self.db.run_sync(lambda s, e=envelope: record_coded(s, self.settings, e))
        # the claims became ready at `at` (tests run on their own clock)
        keys = {e.subject for e in events}
        self.db.run_sync(lambda s: _ready_at(s, keys, at))

    def claims(self) -> dict[str, ClaimRow]:
        with self.db.session() as s:
            return {r.encounter_key.removeprefix("h:"): r for r in s.exec(select(ClaimRow))}

    def history(self, claim_id: str) -> list[str]:
        with self.db.session() as s:
            query = select(ClaimTransition).where(ClaimTransition.claim_id == claim_id)
            return [t.target for t in s.exec(query.order_by(ClaimTransition.id))]  # type: ignore[arg-type]

    def history_reasons(self, claim_id: str) -> list[str]:
        with self.db.session() as s:
            query = select(ClaimTransition).where(ClaimTransition.claim_id == claim_id)
            return [t.reason for t in s.exec(query.order_by(ClaimTransition.id))]  # type: ignore[arg-type]

    def batches(self) -> list[ClaimBatch]:
        with self.db.session() as s:
            return list(s.exec(select(ClaimBatch).order_by(ClaimBatch.interchange_control_number)))  # type: ignore[arg-type]

    def events(self) -> list[dict[str, Any]]:
        """The claim statuses announced, as intake reads them (PHI fields opened)."""
        with self.db.session() as s:
            rows = s.exec(select(OutboxEvent).order_by(OutboxEvent.seq))  # type: ignore[arg-type]
            envelopes = [Envelope.model_validate_json(r.payload) for r in rows]
        return [
            e.payload(ClaimStatusChanged).model_dump(mode="json")
            for e in envelopes
            if e.type == ClaimStatusChanged.event_type
        ]

    def submitter(self, payers: Any = None, **settings: Any) -> ClaimSubmitter:
        merged = self.settings.model_copy(update=settings)
        return (
            ClaimSubmitter(self.db, merged, payers) if payers else ClaimSubmitter(self.db, merged)
        )

    def run(self, submitter: ClaimSubmitter, at: datetime) -> int:
        import asyncio

        return asyncio.run(submitter.submit_pending(at))


def _ready_at(session: Session, keys: set[str], at: datetime) -> None:
    for row in session.exec(select(ClaimRow).where(ClaimRow.status == "built")):
        if row.encounter_key in keys:
            row.next_attempt_at = at
            session.add(row)


@pytest.fixture
def claims_db(tmp_path: Path) -> Iterator[ClaimsDb]:
    db = Database(f"sqlite:///{tmp_path / 'claims.db'}", [*TABLES, OutboxEvent, ProcessedEvent])
    migrations.upgrade(db, "claims")
    settings = ClaimsSettings(
        database_url=None,
        chartflow_var=tmp_path,
        claims_batch_window_seconds=0,
        claims_retry_base_seconds=30,
        claims_retry_max_seconds=100,
        claims_retry_attempts=4,
        claims_batch_lease_seconds=60,
    )
    yield ClaimsDb(db, settings)
    db.close()


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


__all__ = ["T0", "UTC", "ClaimsDb", "coded_event", "later"]
