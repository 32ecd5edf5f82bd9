"""Coding-caused denials as coding sees them (`CodingDenial`: one per rework task, counted
against the coder and pool whose codes the payer denied), and the figures behind the denial
rates of the vendor's scorecards (`denial_figures`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from services.coding.db import CodingDenial, CodingTask
from services.coding.domain.denial_rates import DenialRate, denial_rates


@dataclass(frozen=True)
class DenialFigures:
    """A vendor's denial rates per coder and per pool over a period."""

    vendor_id: str
    since: datetime | None
    until: datetime | None
    coders: list[DenialRate]
    pools: list[DenialRate]


def denial_figures(
    session: Session,
    vendor_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    coder_id: str | None = None,
) -> DenialFigures:
    """Claims billed from the vendor's codes (submitted tasks) and the coding-caused denials
    against them, per coder and per pool; `coder_id` narrows it to one coder."""
    billed_query = select(CodingTask.coder_id, CodingTask.pool_id, func.count()).where(
        CodingTask.vendor_id == vendor_id,
        CodingTask.status == "submitted",
        col(CodingTask.coder_id).is_not(None),
    )
    denied_query = select(CodingDenial.coder_id, CodingDenial.pool_id, func.count()).where(
        CodingDenial.vendor_id == vendor_id
    )
    if since is not None:
        billed_query = billed_query.where(col(CodingTask.submitted_at) >= since)
        denied_query = denied_query.where(col(CodingDenial.at) >= since)
    if until is not None:
        billed_query = billed_query.where(col(CodingTask.submitted_at) < until)
        denied_query = denied_query.where(col(CodingDenial.at) < until)
    if coder_id is not None:
        billed_query = billed_query.where(CodingTask.coder_id == coder_id)
        denied_query = denied_query.where(CodingDenial.coder_id == coder_id)
    billed = session.exec(
        billed_query.group_by(col(CodingTask.coder_id), col(CodingTask.pool_id))
    ).all()
    denied = session.exec(
        denied_query.group_by(col(CodingDenial.coder_id), col(CodingDenial.pool_id))
    ).all()

    def total(rows: Sequence[tuple[str | None, str, int]], by_pool: bool) -> dict[str, int]:
        out: dict[str, int] = {}
        for coder, pool, count in rows:
            key = pool if by_pool else coder
            if key:
                out[key] = out.get(key, 0) + int(count)
        return out

    billed_rows: list[tuple[str | None, str, int]] = [(c, p, n) for c, p, n in billed]
    denied_rows: list[tuple[str | None, str, int]] = [(c, p, n) for c, p, n in denied]
    return DenialFigures(
        vendor_id=vendor_id,
        since=since,
        until=until,
        coders=denial_rates(total(billed_rows, False), total(denied_rows, False)),
        pools=denial_rates(total(billed_rows, True), total(denied_rows, True)),
    )


def record_denial(session: Session, denial: CodingDenial) -> None:
    """Once per rework task (a redelivered task changes nothing)."""
    if session.get(CodingDenial, denial.rework_task_id) is None:
        session.add(denial)
