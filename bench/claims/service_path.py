"""The claims service's own path on a real database: coded events in, every claim answered.

Drives `ClaimsHandlers.on_encounter_coded` (build + scrub + record) and
`ClaimSubmitter.submit_pending` (batch exchange with the simulated payer + record) the way the
running service does, consumer and submitter side by side, until every claim has a final
status. No Kafka: the stage measured is the claims service's own work.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from services.claims.db import TABLES, ClaimRow, PayerRow
from services.claims.handlers import ClaimsHandlers
from services.claims.settings import ClaimsSettings
from services.claims.submission import ClaimSubmitter
from shared.events.assignment import EncounterCoded
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.envelope import Envelope
from shared.events.intake import BillingProvider, EncounterDocument
from shared.service import Runtime

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())
FINAL = frozenset({"paid", "partially_paid", "denied", "rejected", "held", "submission_failed"})


def coded_events(n: int, run: str) -> list[Envelope]:
    """N coded encounters, cycling through the demo's five (professional and institutional)."""
    hospital = DEMO["hospital"]
    provider = BillingProvider.model_validate(
        {k: hospital[k] for k in ("name", "npi", "tax_id", "address")}
    )
    events = []
    for i in range(n):
        item = deepcopy(DEMO["encounters"][i % len(DEMO["encounters"])])
        item["encounter"]["external_id"] = f"{run}-{i}"
        coded = EncounterCoded(
            encounter_key=f"bench:{run}-{i}",
            hospital_id="bench",
            billing_provider=provider,
            encounter=EncounterDocument.model_validate(item["encounter"]),
            diagnoses=[DiagnosisCode.model_validate(d) for d in item["coding"]["diagnoses"]],
            procedures=[ProcedureCode.model_validate(p) for p in item["coding"]["procedures"]],
            coder_id="bench-coder",
        )
        events.append(
            Envelope.wrap(coded, source="bench", subject=coded.encounter_key, tenant="bench")
        )
    return events


@dataclass
class ServicePathRun:
    seconds: float
    statuses: dict[str, int]
    documents: list[dict[str, Any]]


def _statuses(rows: Sequence[ClaimRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


async def run_service_path(n: int, database_url: str | None, var: Path) -> ServicePathRun:
    run = uuid.uuid4().hex[:8]
    settings = ClaimsSettings(
        database_url=database_url, chartflow_var=var, chartflow_namespace_prefix=f"bench{run}."
    )
    rt = Runtime.create(settings, TABLES)
    payer = DEMO["payers"][0]
    rt.db.run_sync(
        lambda s: s.merge(
            PayerRow(
                payer_id=payer["payer_id"],
                name=payer["name"],
                claim_types=",".join(payer["claim_types"]),
                receiver_id=payer["receiver_id"],
                simulator=json.dumps(payer["simulator"]),
            )
        )
    )
    events = coded_events(n, run)
    handlers = ClaimsHandlers(rt.db, settings)
    submitter = ClaimSubmitter(rt.db, settings)

    def rows(session: Session) -> list[ClaimRow]:
        return list(session.exec(select(ClaimRow)).all())

    async def consume() -> None:
        for envelope in events:
            await handlers.on_encounter_coded(envelope)

    started = time.perf_counter()
    consumer = asyncio.create_task(consume())
    while True:
        exchanged = await submitter.submit_pending()
        if consumer.done():
            await consumer
            current = await rt.db.run(rows)
            if len(current) == n and all(r.status in FINAL for r in current):
                break
        if exchanged == 0:
            await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    final = await rt.db.run(rows)
    documents = [json.loads(r.document) for r in final if r.status not in ("held",)]
    await rt.stop()
    return ServicePathRun(seconds, _statuses(final), documents)
