"""The claims service's own path on a real database: coded events in, every claim answered.

Drives `ClaimsHandlers.on_encounter_coded` (build + scrub + record, one transaction per
event as the Kafka consumer calls it) for every event, then `ClaimSubmitter.submit_pending`
(batches exchanged with the simulated payer + recorded) until every claim has a final
status, timing each part. No Kafka: the stage measured is the claims service's own work.
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


@dataclass(frozen=True)
class Timed:
    seconds: float
    cpu_seconds: float  # the whole process's CPU time (every thread), robust to a busy machine


@dataclass
class ServicePathRun:
    consume: Timed
    submit: Timed
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

    started, cpu_started = time.perf_counter(), time.process_time()
    for envelope in events:
        await handlers.on_encounter_coded(envelope)
    consumed = Timed(time.perf_counter() - started, time.process_time() - cpu_started)
    started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        if await submitter.submit_pending() == 0:
            current = await rt.db.run(rows)
            if all(r.status in FINAL for r in current):
                break
            await asyncio.sleep(0.01)
    submitted = Timed(time.perf_counter() - started, time.process_time() - cpu_started)
    final = await rt.db.run(rows)
    documents = [json.loads(r.document) for r in final if r.status not in ("held",)]
    await rt.stop()
    return ServicePathRun(consumed, submitted, _statuses(final), documents)
