"""Built claims go to their payer in per-payer batches; the answers move each claim.

Each pass: batches whose worker crashed are taken over (a batch still forming is prepared
again from its reserved numbers; one being sent is sent again as the very same interchange,
same ISA13, which payers drop as a duplicate if it reached them), then each payer's ready
claims are batched per submission window, validated once, sent once, and the answers read
once. A batch that fails is logged and left to its lease; the others go on.

A crash between sending and recording the answers cannot bill twice: the interchange is
stored (`claim_batch.x12`, status `sending`) before it is sent, its claims stay tied to it,
and after the lease it is resent byte for byte rather than built again with new numbers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from sqlmodel import Session

from services.claims.answers import record_answers, record_unreadable
from services.claims.batch_prep import PreparedBatch, prepare_batch, record_prepared
from services.claims.batching import BatchPlan, BatchWindow, form_batches, take_stalled
from services.claims.db import utc_now
from services.claims.domain import claim_from_coded_encounter
from services.claims.domain.exchange import BatchAnswers, PayerAnswers, PayerRefused, read_answers
from services.claims.payers import PayerFactory, payer_adapter
from services.claims.retries import record_refused, record_uncertain
from services.claims.settings import ClaimsSettings
from shared.db import Database

log = structlog.get_logger()
_Retry = Callable[[Session, ClaimsSettings, str, str, datetime], None]


class ClaimSubmitter:
    def __init__(
        self, db: Database, settings: ClaimsSettings, payers: PayerFactory = payer_adapter
    ) -> None:
        self.db = db
        self.settings = settings
        self.payers = payers
        self.lease = timedelta(seconds=settings.claims_batch_lease_seconds)
        self.window = BatchWindow(
            timedelta(seconds=settings.claims_batch_window_seconds),
            settings.claims_batch_max_claims,
            self.lease,
        )

    async def submit_pending(self, now: datetime | None = None) -> int:
        """One pass; the number of claims whose answers were recorded."""
        at = now or utc_now()
        stalled = await self.db.run(lambda s: take_stalled(s, at, self.lease))
        plans = await self.db.run(lambda s: form_batches(s, at, self.window))
        answered = 0
        for item in stalled:
            if item.status == "sending":
                answered += await self._guarded(self._send(item.plan, item.x12, at))
            else:
                plans.append(item.plan)
        for plan in plans:
            answered += await self._guarded(self._prepare_and_send(plan, at))
        return answered

    async def _guarded(self, step: Awaitable[int]) -> int:
        try:
            return await step
        except Exception as exc:  # one batch's failure must not stop the others
            log.error("claims.batch_failed", error=type(exc).__name__)
            return 0

    async def _prepare_and_send(self, plan: BatchPlan, at: datetime) -> int:
        prepared: PreparedBatch = await asyncio.to_thread(prepare_batch, plan)
        if not await self.db.run(lambda s: record_prepared(s, self.settings, plan, prepared, at)):
            return 0
        return await self._send(plan, prepared.x12, at)

    async def _send(self, plan: BatchPlan, x12: str, at: datetime) -> int:
        payer = self.payers(plan.payer)
        try:
            answers: PayerAnswers = await asyncio.to_thread(payer.receive, x12, plan.when)
        except PayerRefused as exc:
            await self._retry(record_refused, plan, f"refused: {exc}", at)
            return 0
        except Exception as exc:
            error = f"delivery uncertain: {type(exc).__name__}"
            await self._retry(record_uncertain, plan, error, at)
            return 0
        try:
            read = await asyncio.to_thread(read_batch_answers, plan, x12, answers)
        except Exception as exc:
            error = type(exc).__name__
            log.error("claims.answers_unreadable", batch=plan.batch_id, error=error)
            await self.db.run(
                lambda s: record_unreadable(s, self.settings, plan.batch_id, answers, error)
            )
            return 0
        moved = await self.db.run(
            lambda s: record_answers(s, self.settings, plan.batch_id, answers, read, at)
        )
        log.info("claims.batch_answered", batch=plan.batch_id, claims=moved)
        return moved

    async def _retry(self, record: _Retry, plan: BatchPlan, error: str, at: datetime) -> None:
        log.warning("claims.batch_not_taken", batch=plan.batch_id, error=error)
        await self.db.run(lambda s: record(s, self.settings, plan.batch_id, error, at))

    async def run_forever(self) -> None:
        pause = max(
            0.05, min(self.settings.outbox_poll_seconds, self.window.window.total_seconds())
        )
        while True:
            if await self.submit_pending() == 0:
                await asyncio.sleep(pause)


def read_batch_answers(plan: BatchPlan, x12: str, answers: PayerAnswers) -> BatchAnswers:
    """CPU-bound (pyx12 reading the answers): run off the event loop."""
    claims = [claim_from_coded_encounter(json.loads(document)) for _, document in plan.claims]
    sent = f"validated by pyx12 with no errors and sent to the payer in ISA {plan.interchange:09d}"
    return read_answers({c.patient_control_number: c for c in claims}, x12, answers, sent)
