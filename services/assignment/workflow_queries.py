"""Physician queries in the EncounterCoding workflow: each query's life runs in its own signal
handler — reminders at the hospital's intervals, then escalation to its CDI contact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.workflow import HandlerUnfinishedPolicy

from services.assignment.workflow_state import (
    ACTIVITY_TIMEOUT,
    QUERY_OPEN_SINCE,
    QUERY_PENDING,
    EncounterState,
)

with workflow.unsafe.imports_passed_through():
    from services.assignment.activities import AssignmentActivities
    from services.assignment.domain.models import (
        EscalationRequest,
        QueryFollowUp,
        QuerySignal,
        QueryState,
    )


class PhysicianQueries(EncounterState):
    @workflow.signal(unfinished_policy=HandlerUnfinishedPolicy.ABANDON)
    async def query_raised(self, signal: QuerySignal) -> None:
        if signal.query_id in self._queries or self._finished():
            return  # redelivered, or overtaken by its answer
        query = QueryState(
            query_id=signal.query_id,
            task_id=signal.task_id,
            coder_id=signal.coder_id,
            status="open",
            raised_at=workflow.now(),
        )
        self._add_query(query)
        await self._follow_up(query)

    @workflow.signal
    def query_answered(self, signal: QuerySignal) -> None:
        self._close_query(signal, "answered")

    @workflow.signal
    def query_withdrawn(self, signal: QuerySignal) -> None:
        self._close_query(signal, "withdrawn")

    async def _follow_up(self, query: QueryState) -> None:
        """Remind the hospital after each interval; escalate after the last reminder."""
        policy, short = self._request.query_policy, query.query_id[:8]
        for number, seconds in enumerate(policy.reminder_seconds, start=1):
            if not await self._unanswered_after(
                query, seconds, f"query {short}: reminder {number}"
            ):
                return
            query.reminders_sent = number
            self._refresh_details()
            await workflow.execute_activity_method(
                AssignmentActivities.remind_hospital,
                self._follow_up_of(query, number),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                summary=f"remind the hospital of query {short} ({number})",
            )
        if await self._unanswered_after(
            query, policy.escalate_after_seconds, f"query {short}: escalation"
        ):
            query.escalated = True
            await self._escalate(
                EscalationRequest(
                    escalation_id=str(workflow.uuid4()),
                    encounter_key=self._request.encounter_key,
                    hospital_id=self._request.hospital_id,
                    kind="query_unanswered",
                    task_id=query.task_id,
                    query=self._follow_up_of(query, query.reminders_sent),
                )
            )

    async def _unanswered_after(self, query: QueryState, seconds: float, summary: str) -> bool:
        answered = await self._wait_for(
            lambda: query.status != "open" or self._finished(), timedelta(seconds=seconds), summary
        )
        return not answered

    def _follow_up_of(self, query: QueryState, reminder: int) -> QueryFollowUp:
        assert query.raised_at is not None
        return QueryFollowUp(
            query_id=query.query_id,
            encounter_key=self._request.encounter_key,
            hospital_id=self._request.hospital_id,
            raised_at=query.raised_at,
            reminder=reminder,
        )

    def _add_query(self, query: QueryState) -> None:
        self._queries[query.query_id] = query
        self._status.queries.append(query)
        self._queries_changed()

    def _close_query(self, signal: QuerySignal, status: Literal["answered", "withdrawn"]) -> None:
        query = self._queries.get(signal.query_id)
        if query is None:  # the answer overtook the raise (another topic): it is closed
            self._add_query(
                QueryState(
                    query_id=signal.query_id,
                    task_id=signal.task_id,
                    coder_id=signal.coder_id,
                    status=status,
                    closed_at=workflow.now(),
                )
            )
        elif query.status == "open":
            query.status, query.closed_at = status, workflow.now()
            self._queries_changed()

    def _queries_changed(self) -> None:
        open_since = [q.raised_at for q in self._queries.values() if q.status == "open"]
        oldest = min((at for at in open_since if at is not None), default=None)
        updates: list[SearchAttributeUpdate[Any]] = [QUERY_PENDING.value_set(bool(open_since))]
        updates.append(
            QUERY_OPEN_SINCE.value_set(oldest) if oldest else QUERY_OPEN_SINCE.value_unset()
        )
        workflow.upsert_search_attributes(updates)
        self._refresh_details()
