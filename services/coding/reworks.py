"""Rework tasks: a claim the payer denied or rejected for a coding cause comes back to the
coder who coded it (while they work in its pool), with the payer's reasons, the lines
concerned and the codes it was billed with; the denial counts against that coder and pool."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from services.coding.db import Coder, CodingDenial, CodingTask
from services.coding.denials import record_denial
from shared.events.assignment import CodingTaskCreated, ReworkDetails


def may_rework(coder: Coder, created: CodingTaskCreated) -> bool:
    """A rework goes to its named coder only while they still code for its pool."""
    return created.rework is None or created.pool_id in coder.pools.split(",")


def rework_fields(created: CodingTaskCreated) -> dict[str, Any]:
    if created.rework is None:
        return {}
    return {"kind": "rework", "rework": created.rework.model_dump_json()}


def record_rework(session: Session, created: CodingTaskCreated) -> None:
    """The coding-caused denial, counted on the scorecard of whoever coded the denied claim."""
    rework = created.rework
    if rework is None:
        return
    record_denial(
        session,
        CodingDenial(
            rework_task_id=created.task_id,
            encounter_key=created.encounter_key,
            vendor_id=created.vendor_id,
            coder_id=rework.denied_coder_id,
            pool_id=rework.denied_pool_id or created.pool_id,
            denied_task_id=rework.denied_task_id,
            claim_id=rework.claim_id,
            claim_version=rework.claim_version,
            codes=",".join(r.code for r in rework.reasons)[:200],
        ),
    )


def rework_of(task: CodingTask) -> ReworkDetails | None:
    return ReworkDetails.model_validate_json(task.rework) if task.rework else None


def rework_reason(task: CodingTask) -> str | None:
    """One line for the worklist: the payer's codes and meanings, and the lines concerned."""
    rework = rework_of(task)
    if rework is None:
        return None
    parts = []
    for reason in rework.reasons:
        lines = ", ".join(
            f"line {ln.number}" + (f" {ln.procedure_code}" if ln.procedure_code else "")
            for ln in reason.lines
        )
        parts.append(f"{reason.code}: {reason.meaning}" + (f" ({lines})" if lines else ""))
    return f"claim version {rework.claim_version}: " + "; ".join(parts)


def rework_view(task: CodingTask) -> dict[str, Any] | None:
    rework = rework_of(task)
    return json.loads(rework.model_dump_json()) if rework is not None else None
