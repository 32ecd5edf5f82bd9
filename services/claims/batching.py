"""A payer's ready claims become one batch per submission window, with its control numbers.

Forming a batch is one transaction: it reserves the interchange's ISA13, GS06 and ST02
numbers from the database counters and ties its claims to it, under a lease. Its 837 is
written from those numbers only, so preparing it again after a crash gives the same bytes.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from services.claims.db import ClaimBatch, ClaimRow, PayerRow
from services.claims.domain.writer import MAX_CLAIMS_PER_TRANSACTION
from services.claims.repository import ClaimsRepository


@dataclass(frozen=True)
class PayerSnapshot:
    payer_id: str
    name: str
    receiver_id: str
    claim_types: str
    simulator: str
    endpoint: str | None = None

    @classmethod
    def of(cls, row: PayerRow) -> PayerSnapshot:
        return cls(
            row.payer_id, row.name, row.receiver_id, row.claim_types, row.simulator, row.endpoint
        )


@dataclass(frozen=True)
class BatchPlan:
    """What preparing a batch needs, and nothing from the database session."""

    batch_id: str
    payer: PayerSnapshot
    interchange: int
    group: int
    transaction: int
    when: datetime
    claims: tuple[tuple[str, str], ...]  # (claim id, input document JSON)


@dataclass(frozen=True)
class BatchWindow:
    window: timedelta  # how long a payer's first ready claim waits for others
    max_claims: int
    lease: timedelta


def form_batches(session: Session, now: datetime, rules: BatchWindow) -> list[BatchPlan]:
    """Batches of the claims ready now: per payer, once its oldest claim has waited the
    window or the batch is full; a claim marked `alone` goes in a batch of its own."""
    repo = ClaimsRepository(session)
    by_payer: dict[str, list[ClaimRow]] = {}
    for row in repo.ready_to_send(now, limit=rules.max_claims * 20):
        by_payer.setdefault(row.payer_id, []).append(row)
    plans = []
    for payer_id, rows in by_payer.items():
        payer = repo.payer(payer_id)
        if payer is None:
            continue  # its claims were held when built; a payer set up later takes new ones
        groups = [[r] for r in rows if r.alone]
        together = [r for r in rows if not r.alone]
        oldest = min((r.next_attempt_at or now for r in together), default=now)
        if together and (len(together) >= rules.max_claims or oldest <= now - rules.window):
            groups += [
                together[i : i + rules.max_claims]
                for i in range(0, len(together), rules.max_claims)
            ]
        plans += [_form(repo, payer, group, now, rules.lease) for group in groups]
    return plans


def _form(
    repo: ClaimsRepository, payer: PayerRow, rows: list[ClaimRow], now: datetime, lease: timedelta
) -> BatchPlan:
    per_type: dict[str, int] = {}
    for row in rows:
        per_type[row.claim_type] = per_type.get(row.claim_type, 0) + 1
    sets = sum(math.ceil(n / MAX_CLAIMS_PER_TRANSACTION) for n in per_type.values())
    batch = ClaimBatch(
        id=str(uuid.uuid4()),
        payer_id=payer.payer_id,
        status="forming",
        interchange_control_number=repo.next_value("interchange"),
        group_control=repo.next_value("group", len(per_type)),
        transaction_control=repo.next_value("transaction", sets),
        claim_count=len(rows),
        prepared_for=now.replace(second=0, microsecond=0),
        lease_until=now + lease,
    )
    repo.add(batch)
    for row in rows:
        row.batch_id = batch.id
        row.interchange_control_number = batch.interchange_control_number
        repo.add(row)
    return plan_of(batch, payer, rows)


def plan_of(batch: ClaimBatch, payer: PayerRow, rows: list[ClaimRow]) -> BatchPlan:
    return BatchPlan(
        batch_id=batch.id,
        payer=PayerSnapshot.of(payer),
        interchange=batch.interchange_control_number,
        group=batch.group_control,
        transaction=batch.transaction_control,
        when=batch.prepared_for,
        claims=tuple((r.id, r.document) for r in rows),
    )


@dataclass(frozen=True)
class StalledBatch:
    plan: BatchPlan
    status: str  # forming: prepare it again; sending: send the same interchange again
    x12: str


def take_stalled(session: Session, now: datetime, lease: timedelta) -> list[StalledBatch]:
    """Batches whose worker's lease ran out (it crashed or gave up for now), leased to us."""
    repo = ClaimsRepository(session)
    out = []
    for batch in repo.stalled_batches(now):
        payer = repo.payer(batch.payer_id)
        if payer is None:
            continue
        batch.lease_until = now + lease
        repo.add(batch)
        out.append(
            StalledBatch(plan_of(batch, payer, repo.in_batch(batch.id)), batch.status, batch.x12)
        )
    return out
