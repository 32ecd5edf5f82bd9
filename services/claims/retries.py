"""When a payer will not take a batch: its claims go again, alone, with capped backoff.

Refused (the payer certainly took nothing): a batch of several claims is broken up and each
claim goes again at once in an interchange of its own, so a claim the payer chokes on holds
up nobody else; a claim refused alone waits base x 2^n seconds (capped) and after the retry
budget is `submission_failed`, which the hospital sees with the reason.

Uncertain (the send failed in a way that may have delivered it): the very same interchange,
same ISA13, goes again after the backoff (a payer drops an interchange it already has);
after the budget every claim in it is `submission_failed`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from services.claims.db import ClaimRow
from services.claims.domain.retry import RetryPolicy
from services.claims.repository import ClaimsRepository
from services.claims.settings import ClaimsSettings
from services.claims.status_events import move


def policy(settings: ClaimsSettings) -> RetryPolicy:
    return RetryPolicy(
        settings.claims_retry_base_seconds,
        settings.claims_retry_max_seconds,
        settings.claims_retry_attempts,
    )


def _give_up(session: Session, settings: ClaimsSettings, row: ClaimRow, reason: str) -> None:
    row.batch_id, row.next_attempt_at = None, None
    move(session, settings, row, "submission_failed", reason, "submission")


def record_refused(
    session: Session, settings: ClaimsSettings, batch_id: str, error: str, now: datetime
) -> None:
    repo = ClaimsRepository(session)
    batch = repo.sending_batch(batch_id)
    if batch is None:
        return
    rows = repo.in_batch(batch_id)
    batch.status, batch.reason = "refused", error
    repo.add(batch)
    for row in rows:
        row.batch_id, row.alone = None, True
        if len(rows) > 1:
            row.next_attempt_at = now  # not its fault (yet): at once, alone
        else:
            row.attempts += 1
            row.next_attempt_at = policy(settings).next_attempt(row.attempts, now)
            if row.next_attempt_at is None:
                reason = f"the payer did not take the claim in {row.attempts} attempts ({error})"
                _give_up(session, settings, row, reason)
                continue
        repo.add(row)


def record_uncertain(
    session: Session, settings: ClaimsSettings, batch_id: str, error: str, now: datetime
) -> None:
    repo = ClaimsRepository(session)
    batch = repo.sending_batch(batch_id)
    if batch is None:
        return
    batch.attempts += 1
    retry_at = policy(settings).next_attempt(batch.attempts, now)
    if retry_at is not None:
        batch.lease_until = retry_at  # then it is stalled: sent again, same ISA13
        repo.add(batch)
        return
    batch.status, batch.reason = "failed", error
    repo.add(batch)
    reason = (
        f"delivery of interchange {batch.interchange_control_number:09d} to the payer could "
        f"not be confirmed in {batch.attempts} attempts ({error})"
    )
    for row in repo.in_batch(batch_id):
        _give_up(session, settings, row, reason)
