"""A batch's answers, read once, move each of its claims with the reason for every step."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session

from services.claims.db import PayerResponse
from services.claims.domain import ClaimOutcome
from services.claims.domain.exchange import BatchAnswers, PayerAnswers
from services.claims.remittances import apply_outcome, new_remittances
from services.claims.repository import ClaimsRepository
from services.claims.settings import ClaimsSettings
from services.claims.status_events import (
    Moves,
    move,
    states_in_batch,
    verdict_of,
    write_states,
)
from services.claims.voids import VOID, void_accepted


def _keep_responses(session: Session, batch_id: str, answers: PayerAnswers) -> None:
    kinds = {"999": answers.ack_999, "277CA": answers.ack_277ca, "835": answers.remit_835}
    session.add_all(
        PayerResponse(batch_id=batch_id, kind=kind, x12=text)
        for kind, text in kinds.items()
        if text
    )


def record_answers(
    session: Session,
    settings: ClaimsSettings,
    batch_id: str,
    answers: PayerAnswers,
    read: BatchAnswers,
    now: datetime,
) -> int:
    """Keep the answers and move every claim of the batch; the number of claims moved."""
    repo = ClaimsRepository(session)
    batch = repo.sending_batch(batch_id)
    if batch is None:
        return 0
    _keep_responses(session, batch_id, answers)
    states = {s.patient_control_number: s for s in states_in_batch(session, batch_id)}
    for ack in read.acks:
        if ack.payer_claim_id and ack.patient_control_number in states:
            states[ack.patient_control_number].payer_claim_id = ack.payer_claim_id
    fresh = {r.trace_number for r in new_remittances(session, batch.payer_id, read.remittances)}
    outcomes: dict[str, list[ClaimOutcome]] = defaultdict(list)
    for outcome in read.outcomes:
        outcomes[outcome.patient_control_number].append(outcome)
    moves = Moves(settings)
    for pcn, life in read.lifecycles.items():
        state = states[pcn]
        for step in life.history:
            if step.evidence.startswith("835 TRN "):
                outcome = outcomes[pcn].pop(0)
                if step.evidence.removeprefix("835 TRN ") not in fresh:
                    continue  # a remittance applied before (an 835 read twice)
                apply_outcome(state, outcome)
            moves.add(state, step.target.value, step.reason, step.evidence, triage=verdict_of(step))
    moves.write(session)
    write_states(session, list(states.values()))
    for state in states.values():
        if state.status == "voided" and state.frequency == VOID:
            void_accepted(session, settings, state)
    batch.status, batch.answered_at = "answered", now
    repo.add(batch)
    return len(states)


def record_unreadable(
    session: Session, settings: ClaimsSettings, batch_id: str, answers: PayerAnswers, error: str
) -> None:
    """The payer has the claims but its answers could not be applied: keep them, say so."""
    repo = ClaimsRepository(session)
    batch = repo.sending_batch(batch_id)
    if batch is None:
        return
    rows = repo.in_batch(batch_id)
    _keep_responses(session, batch_id, answers)
    reason = (
        f"sent to the payer in ISA {batch.interchange_control_number:09d}; its answers could "
        f"not be applied ({error}): see the batch's payer responses"
    )
    for row in rows:
        move(
            session,
            settings,
            row,
            "submitted",
            reason,
            f"ISA {batch.interchange_control_number:09d}",
        )
    batch.status, batch.reason = "unreadable", error
    repo.add(batch)
