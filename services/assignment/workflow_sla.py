"""The SLA clock of the EncounterCoding workflow: waiting on the open task, standing still while
a physician query is open or ops hold the encounter, and moving the due time by that much."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from temporalio import workflow

from services.assignment.workflow_state import (
    ACTIVITY_TIMEOUT,
    SLA_DUE_AT,
    EncounterState,
    Outcome,
)

with workflow.unsafe.imports_passed_through():
    from services.assignment.activities import AssignmentActivities
    from services.assignment.domain.models import TaskNotice

OPEN_TASK_RECHECK = timedelta(hours=1)
Notice = Literal["held", "resumed", "rescheduled"]


class SlaClock(EncounterState):
    async def _wait_on_task(self, sla_clock: bool) -> Outcome | None:
        """Wait on the open task until codes arrive or ops step in (the outcome), or time is up
        (None): the SLA due time when `sla_clock`, else the next look for a pool."""
        recheck_at = workflow.now() + OPEN_TASK_RECHECK
        self._status.sla_running = sla_clock
        try:
            while (outcome := self._interruption()) is None:
                await self._tell_tasks_about_hold()
                if sla_clock and self._extensions:  # stopped or not, ops moved the due time
                    extension = sum(e.seconds for e in self._extensions)
                    self._extensions.clear()
                    await self._move_due(timedelta(seconds=extension), "extended")
                    continue
                if self._stop_reason() is not None:
                    stopped = await self._while_clock_stopped()
                    if sla_clock:
                        await self._move_due(stopped, "paused")
                    continue
                until = self._status.due_at if sla_clock and self._status.due_at else recheck_at
                summary = (
                    f"SLA due {until:%Y-%m-%d %H:%M:%S} UTC"
                    if sla_clock
                    else "look for another pool"
                )
                if not await self._wait_for(self._clock_changed, until - workflow.now(), summary):
                    return None
            return outcome
        finally:
            self._status.sla_running = False

    def _clock_changed(self) -> bool:
        return (
            self._interruption() is not None
            or self._stop_reason() is not None
            or self._hold_changed()
            or (self._status.sla_running and bool(self._extensions))
        )

    def _hold_changed(self) -> bool:
        return (self._hold is not None) != self._tasks_held

    async def _while_clock_stopped(self) -> timedelta:
        """Wait while a query is open or the encounter is on hold (or until ops extend the SLA
        meanwhile); how long that was."""
        started, reason = workflow.now(), self._stop_reason()
        assert reason is not None
        if self._status.status not in ("on_hold", "query_pending"):
            self._resume_status = self._status.status
        self._set_status(reason)
        await workflow.wait_condition(
            lambda: (
                self._interruption() is not None
                or self._stop_reason() != reason
                or (self._status.sla_running and bool(self._extensions))
            )
        )
        if self._stop_reason() is None:
            self._set_status(self._resume_status)
        return workflow.now() - started

    async def _move_due(self, by: timedelta, why: Literal["paused", "extended"]) -> None:
        if self._status.due_at is None:
            return
        self._status.due_at += by
        if why == "paused":
            self._status.sla_paused_seconds += by.total_seconds()
        else:
            self._status.sla_extended_seconds += by.total_seconds()
        workflow.upsert_search_attributes([SLA_DUE_AT.value_set(self._status.due_at)])
        self._refresh_details()
        if self._interruption() is None and not self._hold_changed():  # else "resumed" says it
            await self._notify_tasks("rescheduled")

    async def _tell_tasks_about_hold(self) -> None:
        if self._hold_changed():
            self._tasks_held = self._hold is not None
            await self._notify_tasks("held" if self._tasks_held else "resumed")

    async def _notify_tasks(self, notice: Notice) -> None:
        if not self._status.open_task_ids or self._status.due_at is None:
            return
        self._notices += 1
        await workflow.execute_activity_method(
            AssignmentActivities.notify_tasks,
            TaskNotice(
                encounter_key=self._request.encounter_key,
                task_ids=list(self._status.open_task_ids),
                notice=notice,
                due_at=self._status.due_at,
                sequence=self._notices,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            summary=f"tell coding: task {notice}",
        )
