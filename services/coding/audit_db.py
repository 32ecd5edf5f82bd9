"""Queries of audits (blind re-code, reconciliation, scores) and of the coded work that
scorecards sum."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, func, select

from services.coding.db import Audit, CodingDenial, CodingTask, PhysicianQuery, ScorecardMark


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def audit(self, audit_id: str) -> Audit | None:
        return self.session.get(Audit, audit_id)

    def worklist(self, auditor_id: str) -> list[Audit]:
        query = select(Audit).where(
            Audit.auditor_id == auditor_id, col(Audit.status).in_(("recoding", "reconciling"))
        )
        return list(self.session.exec(query.order_by(col(Audit.due_at))))

    def unassigned(self) -> list[Audit]:
        query = select(Audit).where(Audit.status == "unassigned")
        return list(self.session.exec(query.order_by(col(Audit.due_at))))

    def open_counts(self) -> dict[str, int]:
        """Open audits per auditor."""
        query = (
            select(Audit.auditor_id, func.count())
            .where(col(Audit.status).in_(("recoding", "reconciling")))
            .group_by(col(Audit.auditor_id))
        )
        return {auditor: int(n) for auditor, n in self.session.exec(query).all() if auditor}

    def completed(
        self,
        vendor_id: str | None,
        coder_id: str | None,
        window: tuple[datetime, datetime] | None,
        limit: int,
    ) -> list[Audit]:
        """Completed audits, newest first, of a vendor's coders or one coder (None: any),
        completed within [since, until) when a window is given."""
        query = select(Audit).where(Audit.status == "completed")
        if window is not None:
            since, until = window
            query = query.where(col(Audit.completed_at) >= since, col(Audit.completed_at) < until)
        if vendor_id is not None:
            query = query.where(Audit.vendor_id == vendor_id)
        if coder_id is not None:
            query = query.where(Audit.coder_id == coder_id)
        return list(self.session.exec(query.order_by(col(Audit.completed_at).desc()).limit(limit)))

    def under_blind_audit(self, task_ids: list[str]) -> set[str]:
        """Those of these tasks an auditor is still to re-code without seeing their codes."""
        if not task_ids:
            return set()
        query = select(Audit.task_id).where(
            col(Audit.task_id).in_(task_ids), col(Audit.status).in_(("unassigned", "recoding"))
        )
        return set(self.session.exec(query))

    def query_counts(self, task_ids: list[str]) -> dict[str, int]:
        """Physician queries raised on each of these tasks (withdrawn ones too: they were asked)."""
        return self._rows_per_task(col(PhysicianQuery.task_id), task_ids)

    def denials(self, task_ids: list[str]) -> dict[str, int]:
        """Coding-caused denials of the claims billed from each of these tasks' codes."""
        return self._rows_per_task(col(CodingDenial.denied_task_id), task_ids)

    def _rows_per_task(self, task_column: Any, task_ids: list[str]) -> dict[str, int]:
        if not task_ids:
            return {}
        query = (
            select(task_column, func.count()).where(task_column.in_(task_ids)).group_by(task_column)
        )
        return {task: int(n) for task, n in self.session.exec(query).all()}

    def of_tasks(self, task_ids: list[str]) -> dict[str, Audit]:
        """The completed audits of these coded tasks, by task id."""
        if not task_ids:
            return {}
        query = select(Audit).where(col(Audit.task_id).in_(task_ids), Audit.status == "completed")
        return {audit.task_id: audit for audit in self.session.exec(query)}

    def mark(self, change: str, hospital_id: str, period: str) -> None:
        if self.session.get(ScorecardMark, change) is None:
            self.add(ScorecardMark(id=change, hospital_id=hospital_id, period=period))

    def marks(self, limit: int = 500) -> list[ScorecardMark]:
        query = select(ScorecardMark).order_by(col(ScorecardMark.marked_at)).limit(limit)
        # skip_locked: replicas publish side by side, each mark by one of them
        return list(self.session.exec(query.with_for_update(skip_locked=True)))

    def unmark(self, marks: list[ScorecardMark]) -> None:
        for mark in marks:
            self.session.delete(mark)

    def coded_tasks(
        self,
        since: datetime,
        until: datetime,
        *,
        coder_id: str | None = None,
        vendor_id: str | None = None,
        pool_id: str | None = None,
        hospital_id: str | None = None,
    ) -> list[CodingTask]:
        """Tasks whose codes were submitted in [since, until), narrowed by the filters given."""
        query = select(CodingTask).where(
            CodingTask.status == "submitted",
            col(CodingTask.submitted_at) >= since,
            col(CodingTask.submitted_at) < until,
        )
        for column, value in (
            (CodingTask.coder_id, coder_id),
            (CodingTask.vendor_id, vendor_id),
            (CodingTask.pool_id, pool_id),
            (CodingTask.hospital_id, hospital_id),
        ):
            if value is not None:
                query = query.where(column == value)
        return list(self.session.exec(query))
