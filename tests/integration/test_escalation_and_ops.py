"""Escalation that tells someone, and ops controls that change the workflow and the worklists,
on the real Temporal server with short SLAs."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy

from services.assignment.db import AssignmentRepository
from services.assignment.domain.models import (
    EncounterCodingInput,
    ExtendSlaRequest,
    OpsRequest,
    ReassignRequest,
)
from services.assignment.handlers import remember_encounter
from services.assignment.ops import OpsRefused
from services.assignment.saved_views import saved_views
from services.assignment.workflows import HOSPITAL_ID, EncounterCoding
from services.coding.db import CodingRepository
from shared.events import topics
from shared.events.assignment import (
    CodingTaskCreated,
    CodingTaskWithdrawn,
    EncounterCancelled,
    EncounterEscalated,
)
from shared.events.intake import EncounterReceived
from tests.integration.conftest import Assignment, of_type, pool, received, replay_and_save

pytestmark = [pytest.mark.temporal, pytest.mark.kafka]

OPS = {"by": "ops-jane", "reason": "ticket OPS-42"}


async def _tasks(assignment: Assignment, count: int) -> list[CodingTaskCreated]:
    """The first `count` tasks created for the encounter (waiting for them)."""
    async with asyncio.timeout(30):
        while (
            len(
                created := of_type(
                    await assignment.messages(topics.CODING_TASKS, count), CodingTaskCreated
                )
            )
            < count
        ):
            await asyncio.sleep(0.2)
    return created[:count]


async def _on_avas_worklist(assignment: Assignment, unique: str) -> CodingTaskCreated:
    """An encounter assigned to a pool with a long SLA, its task on Ava's worklist."""
    await assignment.db.run(lambda s: s.add(pool("pro-pool", 3600)))
    await assignment.handlers.on_encounter_received(received(unique))
    [task] = await _tasks(assignment, 1)
    await assignment.worklists_become({"coder-ava": [task.task_id], "coder-ben": []})
    return task


async def test_a_breach_with_no_other_pool_escalates_within_seconds_and_ops_acknowledge_it(
    assignment: Assignment, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add(pool("only", 2)))
    encounter = received(unique)
    key = encounter.subject
    started = time.monotonic()
    await assignment.handlers.on_encounter_received(encounter)

    [escalated] = of_type(
        await assignment.messages(topics.ASSIGNMENT_EVENTS, 1), EncounterEscalated
    )
    took = time.monotonic() - started

    assert took < 10  # a 2 s SLA, then at once
    assert (escalated.reason, escalated.pool_id) == ("no_other_pool", "only")
    status = await assignment.status(key)
    assert status.status == "escalated"
    [listed] = await assignment.ops.escalations(acknowledged=False, limit=10)
    assert (listed.id, listed.kind, listed.task_id) == (
        escalated.escalation_id,
        "no_other_pool",
        status.task_id,
    )
    views = saved_views(datetime.now(UTC))
    await assignment.wait_for_search(key, views["escalated, not acknowledged"])
    assert await assignment.found(key, views["past its SLA, clock running"])

    with pytest.raises(OpsRefused, match="no SLA running"):  # breached: reassign instead
        await assignment.ops.extend_sla(key, ExtendSlaRequest(seconds=60, **OPS))

    acknowledged = await assignment.ops.acknowledge(listed.id, "ops-jane", "calling the vendor")

    assert acknowledged.acknowledged_by == "ops-jane" and acknowledged.acknowledged_at
    assert await assignment.ops.escalations(acknowledged=False, limit=10) == []
    await assignment.wait_for_search(key, "EscalationStatus = 'acknowledged'")
    status = await assignment.wait_for(key, lambda s: bool(s.escalations[0].acknowledged_by))
    with pytest.raises(OpsRefused, match="acknowledged by ops-jane already"):
        await assignment.ops.acknowledge(listed.id, "ops-joe", "")
    [task] = await _tasks(assignment, 1)
    await assignment.submit(task.task_id, key)  # late work still counts
    result = await assignment.result_once_paid(key)
    assert result.history == [
        "assigned",
        "sla_breached",
        "escalated",
        "coded",
        "released",
        "claim_paid",
    ]
    await replay_and_save(assignment.handle(key), "encounter_coding_escalated")


async def test_reassignments_used_up_escalate_at_once(assignment: Assignment, unique: str) -> None:
    await assignment.db.run(lambda s: s.add_all([pool("fast", 2), pool("slow", 3600)]))
    encounter = received(unique)
    event = encounter.payload(EncounterReceived)
    await assignment.db.run(lambda s: remember_encounter(s, event))
    handle = await assignment.client.start_workflow(
        EncounterCoding.run,
        EncounterCodingInput(
            encounter_key=encounter.subject,
            hospital_id="mercy",
            encounter_class="professional",
            max_reassignments=0,
        ),
        id=assignment.handle(encounter.subject).id,
        task_queue=assignment.settings.topic("assignment"),
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes([SearchAttributePair(HOSPITAL_ID, "mercy")]),
    )

    [escalated] = of_type(
        await assignment.messages(topics.ASSIGNMENT_EVENTS, 1), EncounterEscalated
    )

    assert escalated.reason == "reassignments_used_up"
    assert [t.pool_id for t in await _tasks(assignment, 1)] == ["fast"]  # "slow" never asked
    await handle.terminate("test over")


async def test_ops_reassign_to_a_pool_then_a_coder_withdraws_each_task_from_its_worklist(
    assignment: Assignment, unique: str
) -> None:
    await assignment.db.run(lambda s: s.add_all([pool("fast", 3600), pool("slow", 3600)]))
    encounter = received(unique)
    key = encounter.subject
    await assignment.handlers.on_encounter_received(encounter)
    [first] = await _tasks(assignment, 1)
    assert first.pool_id == "fast"
    await assignment.worklists_become({"coder-ava": [first.task_id], "coder-ben": []})
    for refused, reason in [
        (ReassignRequest(pool_id="nowhere", **OPS), "no pool nowhere"),
        (ReassignRequest(pool_id="fast", **OPS), "already with pool fast"),
        (ReassignRequest(pool_id="slow", coder_id="coder-ben", **OPS), "either pool_id or"),
    ]:
        with pytest.raises(OpsRefused, match=reason):
            await assignment.ops.reassign(key, refused)

    await assignment.ops.reassign(key, ReassignRequest(pool_id="slow", **OPS))
    second = (await _tasks(assignment, 2))[1]
    assert second.pool_id == "slow"
    await assignment.worklists_become({"coder-ava": [second.task_id], "coder-ben": []})
    await assignment.ops.reassign(key, ReassignRequest(coder_id="coder-ben", **OPS))
    third = (await _tasks(assignment, 3))[2]

    assert (third.pool_id, third.coder_id) == ("slow", "coder-ben")
    await assignment.worklists_become({"coder-ava": [], "coder-ben": [third.task_id]})
    withdrawn = of_type(await assignment.messages(topics.CODING_TASKS, 5), CodingTaskWithdrawn)
    assert [(w.task_id, w.reason) for w in withdrawn] == [
        (first.task_id, "reassigned"),
        (second.task_id, "reassigned"),
    ]
    await assignment.wait_for(key, lambda s: s.task_id == third.task_id)
    status = await assignment.ops.status(key)  # the reasons come from assignment's database
    assert status.open_task_ids == [third.task_id]
    assert [(a.action, a.by, a.reason) for a in status.ops_actions] == [
        ("reassign to pool slow", "ops-jane", "ticket OPS-42"),
        ("reassign to coder coder-ben", "ops-jane", "ticket OPS-42"),
    ]
    profiles = await assignment.db.run(lambda s: AssignmentRepository(s).pool_profiles())
    assert {p.pool_id: p.open_tasks for p in profiles} == {"fast": 0, "slow": 1}
    await assignment.submit(first.task_id, key)  # a withdrawn task's codes no longer count
    await assignment.submit(third.task_id, key)
    await assignment.wait_for(key, lambda s: s.status == "released")
    with pytest.raises(OpsRefused, match="released"):  # the claim is out of coding's hands
        await assignment.ops.hold(key, OpsRequest(**OPS))
    result = await assignment.result_once_paid(key)
    assert result.status == "claim_paid"
    [coded] = await assignment.messages(topics.ENCOUNTERS_CODED, 1)
    assert coded.id == f"coded-{third.task_id}"  # released with the codes of the open task
    with pytest.raises(OpsRefused, match="claim_paid"):
        await assignment.ops.hold(key, OpsRequest(**OPS))


async def test_ops_hold_takes_the_task_off_the_worklist_and_stops_the_sla_clock(
    assignment: Assignment, unique: str
) -> None:
    task = await _on_avas_worklist(assignment, unique)
    key = task.encounter_key
    first_due = (await assignment.status(key)).due_at
    assert first_due is not None

    await assignment.ops.hold(key, OpsRequest(**OPS))
    held = await assignment.wait_for(key, lambda s: s.status == "on_hold")
    await assignment.worklists_become({"coder-ava": [], "coder-ben": []})
    await assignment.wait_for_search(key, saved_views(datetime.now(UTC))["on hold"])
    with pytest.raises(OpsRefused, match="already on hold"):
        await assignment.ops.hold(key, OpsRequest(**OPS))
    await assignment.ops.extend_sla(key, ExtendSlaRequest(seconds=600, **OPS))  # while held
    extended = await assignment.wait_for(key, lambda s: s.sla_extended_seconds > 0)
    await asyncio.sleep(1)
    await assignment.ops.release_hold(key, OpsRequest(**OPS))
    released = await assignment.wait_for(key, lambda s: s.status == "assigned")
    await assignment.worklists_become({"coder-ava": [task.task_id], "coder-ben": []})

    assert held.on_hold and not released.on_hold
    assert extended.status == "on_hold"  # the due time moved at once, the clock still stopped
    assert extended.due_at is not None and released.due_at is not None
    assert _close(extended.due_at - first_due, 600 + extended.sla_paused_seconds)
    assert released.sla_paused_seconds >= 1
    assert _close(released.due_at - first_due, 600 + released.sla_paused_seconds)
    # The coder's worklist shows the due time moved by the hold, then by the extension.
    async with asyncio.timeout(30):
        while (await _coding_due(assignment, task.task_id)) != released.due_at:
            await asyncio.sleep(0.2)
    await assignment.wait_for_search(key, "OnHold = false")
    entries = await assignment.db.run(lambda s: AssignmentRepository(s).ops_actions(key))
    actions = [(a.action, a.by) for a in entries]
    assert actions == [("hold", "ops-jane"), ("extend_sla", "ops-jane"), ("release", "ops-jane")]
    await assignment.handle(key).terminate("test over")


async def test_ops_cancel_withdraws_the_task_and_ends_the_encounter(
    assignment: Assignment, unique: str
) -> None:
    task = await _on_avas_worklist(assignment, unique)
    key = task.encounter_key

    await assignment.ops.cancel(key, OpsRequest(**OPS))
    result = await assignment.handle(key).result()

    assert result.status == "cancelled"
    assert result.open_task_ids == []
    await assignment.worklists_become({"coder-ava": [], "coder-ben": []})
    [cancelled] = of_type(
        await assignment.messages(topics.ASSIGNMENT_EVENTS, 1), EncounterCancelled
    )
    assert cancelled.reason == "ticket OPS-42"
    routed = await assignment.db.run(lambda s: AssignmentRepository(s).routed(key))
    assert routed is not None and routed.status == "cancelled"
    profiles = await assignment.db.run(lambda s: AssignmentRepository(s).pool_profiles())
    assert [p.open_tasks for p in profiles] == [0]
    await assignment.wait_for_search(key, saved_views(datetime.now(UTC))["cancelled by ops"])
    history = await replay_and_save(assignment.handle(key), "encounter_coding_cancelled")
    assert OPS["reason"] not in history.to_json()  # free text stays out of workflow history


def _close(moved: timedelta, seconds: float) -> bool:
    return abs(moved.total_seconds() - seconds) < 0.001


async def _coding_due(assignment: Assignment, task_id: str) -> datetime | None:
    task = await assignment.coding_db.run(lambda s: CodingRepository(s).task(task_id))
    return task.due_at.replace(tzinfo=UTC) if task else None
