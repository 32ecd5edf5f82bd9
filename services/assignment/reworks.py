"""What a rework task carries to coding: the payer's coding-caused reasons and the codes of
the claim it denied (from the coder's submission kept here)."""

from __future__ import annotations

from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from services.assignment.db import AssignmentRepository, PoolTask
from services.assignment.domain.claim_models import ReworkOrder
from shared.events.assignment import ReworkDetails, ReworkReason
from shared.events.coding import CodingSubmitted


def rework_details(session: Session, order: ReworkOrder) -> ReworkDetails:
    """The rework as coding shows it: the payer's reasons and the denied version's codes."""
    submission = AssignmentRepository(session).submission(order.denied_task_id)
    if submission is None:
        raise ApplicationError("the denied claim's codes are not found", non_retryable=True)
    codes = CodingSubmitted.model_validate_json(submission.submitted)
    task = session.get(PoolTask, order.denied_task_id)
    return ReworkDetails(
        claim_id=order.claim_id,
        claim_version=order.claim_version,
        denied_task_id=order.denied_task_id,
        denied_coder_id=order.denied_coder_id,
        denied_pool_id=task.pool_id if task is not None else "",
        reasons=[
            ReworkReason(source=i.source, code=i.code, meaning=i.meaning, lines=i.lines)
            for i in order.reasons
        ],
        diagnoses=codes.diagnoses,
        procedures=codes.procedures,
    )
