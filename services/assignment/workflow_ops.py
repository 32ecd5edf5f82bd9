"""Ops controls of the EncounterCoding workflow: each signal is recorded with who asked and the
ops action that keeps why (in assignment's database: free text stays out of history); the run
loop acts on it (reassign, cancel) or the SLA clock does (hold, extend)."""

from __future__ import annotations

from temporalio import workflow

from services.assignment.workflow_state import ESCALATION_STATUS, ON_HOLD, EncounterState

with workflow.unsafe.imports_passed_through():
    from services.assignment.domain.models import (
        EscalationAck,
        ExtendSlaSignal,
        OpsAction,
        OpsSignal,
        ReassignSignal,
    )


class OpsControls(EncounterState):
    @workflow.signal
    def reassign(self, request: ReassignSignal) -> None:
        target = f"pool {request.pool_id}" if request.pool_id else f"coder {request.coder_id}"
        self._record(f"reassign to {target}", request)
        if not self._finished():
            self._reassign = request

    @workflow.signal
    def hold(self, request: OpsSignal) -> None:
        self._record("hold", request)
        if self._hold is None:
            self._hold, self._status.on_hold = request, True
            workflow.upsert_search_attributes([ON_HOLD.value_set(True)])

    @workflow.signal
    def release_hold(self, request: OpsSignal) -> None:
        self._record("release hold", request)
        if self._hold is not None:
            self._hold, self._status.on_hold = None, False
            workflow.upsert_search_attributes([ON_HOLD.value_set(False)])

    @workflow.signal
    def cancel(self, request: OpsSignal) -> None:
        self._record("cancel", request)
        if self._cancel is None:
            self._cancel = request

    @workflow.signal
    def extend_sla(self, request: ExtendSlaSignal) -> None:
        # Only a running SLA moves; a breached one is for reassigning.
        running = self._status.sla_running
        ignored = "" if running else " (ignored: no SLA running)"
        self._record(f"extend SLA by {request.seconds}s{ignored}", request)
        if running:
            self._extensions.append(request)

    @workflow.signal
    def escalation_acknowledged(self, ack: EscalationAck) -> None:
        for escalation in self._status.escalations:
            if escalation.escalation_id == ack.escalation_id and not escalation.acknowledged_by:
                escalation.acknowledged_by = ack.by
        if all(e.acknowledged_by for e in self._status.escalations):
            workflow.upsert_search_attributes([ESCALATION_STATUS.value_set("acknowledged")])
        self._refresh_details()

    def _record(self, action: str, request: OpsSignal) -> None:
        self._status.ops_actions.append(
            OpsAction(action=action, by=request.by, at=workflow.now(), action_id=request.action_id)
        )
        self._refresh_details()
