"""Claims that passed the scrubber go to their payer; the answers move them to paid or denied.

The payer adapter here is the payer simulator, answering at once; a clearinghouse adapter
(SFTP / AS2) fits the same `PayerAdapter` shape. A crash between sending and recording the
answers sends the same interchange (same ISA13) again, which payers drop as a duplicate.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import structlog
from sqlmodel import Session

from services.claims.db import ClaimRow, ClaimsRepository, ClaimTransition, PayerResponse
from services.claims.domain import claim_from_coded_encounter
from services.claims.domain.exchange import Exchange, submit_claim
from services.claims.domain.tracking import ClaimOutcome
from services.claims.handlers import announce
from services.claims.payer_sim import Adjudication, PayerSimulator
from shared.db import Database
from shared.settings import ChartflowSettings

log = structlog.get_logger()
BATCH = 20
CENTS = Decimal("0.01")


def exchange_with_payer(row: ClaimRow, simulator_config: str, when: datetime) -> Exchange:
    """CPU-bound (pyx12 reads): callers run it off the event loop."""
    claim = claim_from_coded_encounter(json.loads(row.document))
    payer = PayerSimulator(Adjudication.from_dict(json.loads(simulator_config or "{}")))
    return submit_claim(claim, row.x12, payer, when)


def remittance_json(outcome: ClaimOutcome) -> str:
    """Per line item control number: what the payer paid and why it adjusted."""
    return json.dumps(
        {
            line_id: {
                "paid": str(line.paid.quantize(CENTS)),
                "adjustments": [
                    [a.group, a.reason, str(a.amount.quantize(CENTS))] for a in line.adjustments
                ],
            }
            for line_id, line in outcome.lines.items()
        }
    )


def record_exchange(
    session: Session, settings: ChartflowSettings, claim_id: str, exchange: Exchange
) -> None:
    """Keep the answers, every transition with its reason, and announce each step."""
    repo = ClaimsRepository(session)
    row = repo.claim(claim_id)
    if row is None or row.status != "built":
        return  # Another worker recorded this exchange already.
    answers = exchange.answers
    kinds = {"999": answers.ack_999, "277CA": answers.ack_277ca, "835": answers.remit_835}
    for kind, text in kinds.items():
        if text:
            repo.add(PayerResponse(claim_id=row.id, kind=kind, x12=text))
    if exchange.outcome:
        row.paid = str(exchange.outcome.paid.quantize(CENTS))
        row.remittance = remittance_json(exchange.outcome)
    first_step = len(repo.transitions(row.id))
    for step, transition in enumerate(exchange.transitions, start=first_step):
        repo.add(
            ClaimTransition(
                claim_id=row.id,
                source=transition.source.value,
                target=transition.target.value,
                reason=transition.reason,
                evidence=transition.evidence,
            )
        )
        row.status, row.reason = transition.target.value, transition.reason
        announce(session, settings, row, step=step)
    repo.add(row)


class ClaimSubmitter:
    def __init__(self, db: Database, settings: ChartflowSettings) -> None:
        self.db = db
        self.settings = settings

    async def submit_pending(self) -> int:
        """Exchange built claims with their payers; the number that went through."""

        def pending(session: Session) -> list[tuple[ClaimRow, str]]:
            repo = ClaimsRepository(session)
            rows = repo.claims_in_status("built", BATCH)
            configs = {r.payer_id: repo.payer(r.payer_id) for r in rows}
            return [(r, cfg.simulator if (cfg := configs[r.payer_id]) else "{}") for r in rows]

        claims = await self.db.run(pending)
        exchanged = 0
        for row, config in claims:
            try:
                exchange = await asyncio.to_thread(
                    exchange_with_payer, row, config, datetime.now(UTC)
                )
                record = partial(
                    record_exchange, settings=self.settings, claim_id=row.id, exchange=exchange
                )
                await self.db.run(record)
            except Exception as exc:  # One claim's failure must not stop the others.
                log.error("claim.exchange_failed", claim=row.id, error=type(exc).__name__)
                continue
            log.info("claim.exchanged", claim=row.id, status=exchange.transitions[-1].target)
            exchanged += 1
        return exchanged

    async def run_forever(self) -> None:
        while True:
            if await self.submit_pending() == 0:
                await asyncio.sleep(self.settings.outbox_poll_seconds * 5)
