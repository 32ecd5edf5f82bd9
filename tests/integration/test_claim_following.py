"""After release the EncounterCoding workflow follows its claim (real Temporal dev server, Kafka
and database): it waits at `released` until a final outcome, shows the claim to ops, and a
coding-caused denial comes back as a rework task to the coder who coded it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from services.assignment.db import VendorPool
from services.coding.db import CodingRepository, CodingTask
from services.coding.denials import denial_figures
from shared.events import topics
from shared.events.assignment import CodingTaskCreated, EncounterCoded, EncounterEscalated
from shared.events.claims import TriagedLine, TriageItem
from tests.integration.conftest import Assignment, of_type, pool, received, replay_and_save

pytestmark = [pytest.mark.temporal, pytest.mark.kafka]

CO11 = TriageItem(
    source="835",
    cause="coding",
    code="CO-11",
    meaning="The diagnosis is inconsistent with the procedure",
    group="CO",
    carc="11",
    lines=[TriagedLine(line_id="PCN1-2", number=2, procedure_code="20610", modifiers=["RT"])],
)
CO45 = TriageItem(source="835", cause="payer", code="CO-45", meaning="fee schedule")
CO31 = TriageItem(source="835", cause="billing", code="CO-31", meaning="not our insured")


async def _tasks(assignment: Assignment, count: int) -> list[CodingTaskCreated]:
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
    return created


async def _released(assignment: Assignment, unique: str, pool_row: VendorPool) -> str:
    """An encounter coded by Ava and released to claims; its key."""
    await assignment.db.run(lambda s: s.add(pool_row))
    encounter = received(unique)
    await assignment.handlers.on_encounter_received(encounter)
    [task] = await _tasks(assignment, 1)
    await assignment.worklists_become({"coder-ava": [task.task_id], "coder-ben": []})
    await assignment.submit(task.task_id, encounter.subject)
    await assignment.wait_for(encounter.subject, lambda s: s.status == "released")
    return encounter.subject


async def test_the_workflow_waits_for_its_claim_and_ends_at_the_payers_verdict(
    assignment: Assignment, unique: str
) -> None:
    key = await _released(assignment, unique, pool("pro-pool", 3600))

    await assignment.claim_comes_back(key, "built", step=0)
    await assignment.claim_comes_back(key, "submitted", step=1)
    await assignment.wait_for_search(key, "ClaimStatus = 'submitted' AND ClaimVersion = 1")
    assert (await assignment.status(key)).status == "released"  # still following the claim
    await assignment.claim_comes_back(key, "paid", step=4, triage=[CO45])
    await assignment.claim_comes_back(key, "submitted", step=1)  # late and old: ignored

    result = await assignment.handle(key).result()
    assert result.status == "claim_paid"
    assert result.history == ["assigned", "coded", "released", "claim_paid"]
    assert result.claim is not None and result.claim.paid == "280.50"
    await assignment.wait_for_search(
        key,
        "ClaimStatus = 'paid' AND ClaimPayer = 'ACMEHLTH' AND ClaimPaid = 280.5 "
        "AND ClaimCharge = 330 AND DenialCause = 'payer'",
    )
    assert len(await _tasks(assignment, 1)) == 1  # a contractual reduction: no coder work
    await replay_and_save(assignment.handle(key), "encounter_coding_claim_paid")


async def test_a_registration_denial_ends_the_workflow_without_coder_work(
    assignment: Assignment, unique: str
) -> None:
    key = await _released(assignment, unique, pool("pro-pool", 3600))

    await assignment.claim_comes_back(key, "denied", step=4, triage=[CO31])

    result = await assignment.handle(key).result()
    assert (result.status, result.reworks) == ("claim_denied", [])
    await assignment.wait_for_search(key, "ClaimStatus = 'denied' AND DenialCause = 'billing'")
    assert len(await _tasks(assignment, 1)) == 1
    await replay_and_save(assignment.handle(key), "encounter_coding_claim_denied_billing")


async def test_a_coding_denial_goes_back_to_the_coder_who_coded_it_and_the_replacement_is_paid(
    assignment: Assignment, unique: str
) -> None:
    rework_pool = pool("pro-pool", 3600)
    rework_pool.rework_sla_seconds = 7200
    key = await _released(assignment, unique, rework_pool)
    [first] = await _tasks(assignment, 1)
    # Ben now has less work than Ava: a rework routed by load alone would go to him.
    await assignment.coding_db.run(lambda s: s.add(_busy_task_for_ava(unique)))

    await assignment.claim_comes_back(key, "partially_paid", step=4, triage=[CO11, CO45])

    [_, rework] = await _tasks(assignment, 2)
    assert rework.coder_id == "coder-ava" and rework.pool_id == "pro-pool"
    assert rework.rework is not None
    assert [r.code for r in rework.rework.reasons] == ["CO-11"]  # the coder's part only
    assert rework.rework.reasons[0].lines[0].procedure_code == "20610"
    assert rework.rework.denied_task_id == first.task_id
    assert [d.code for d in rework.rework.diagnoses] == ["E11.9"]  # the codes billed
    seconds = (rework.due_at - datetime.now(UTC)).total_seconds()
    assert 7000 < seconds <= 7200  # the pool's rework SLA, not its coding SLA
    # sooner due first (the fixture's submissions leave the coded task open in coding)
    on_avas = [first.task_id, rework.task_id, f"{unique}busy"]
    await assignment.worklists_become({"coder-ava": on_avas, "coder-ben": []})
    task = await assignment.coding_db.run(lambda s: CodingRepository(s).task(rework.task_id))
    assert task is not None and task.kind == "rework"
    status = await assignment.wait_for(key, lambda s: s.status == "rework_assigned")
    assert [r.coder_id for r in status.reworks] == ["coder-ava"]

    await assignment.submit(rework.task_id, key)
    await assignment.wait_for(key, lambda s: s.status == "released" and s.claim_version == 2)
    coded = of_type(await assignment.messages(topics.ENCOUNTERS_CODED, 2), EncounterCoded)
    assert [c.claim_version for c in coded] == [1, 2]
    await assignment.claim_comes_back(key, "built", version=2, step=0)
    await assignment.claim_comes_back(key, "paid", version=2, step=4, triage=[CO45])

    result = await assignment.handle(key).result()
    assert result.status == "claim_paid" and result.claim_version == 2
    assert result.history == [
        "assigned",
        "coded",
        "released",
        "rework_assigned",
        "coded",
        "released",
        "claim_paid",
    ]
    await assignment.wait_for_search(key, "ClaimStatus = 'paid' AND ClaimVersion = 2")
    figures = await assignment.coding_db.run(lambda s: denial_figures(s, "northstar"))
    ava = {r.subject: r for r in figures.coders}["coder-ava"]
    assert ava.coding_denials == 1
    await replay_and_save(assignment.handle(key), "encounter_coding_rework_paid")


def _busy_task_for_ava(unique: str) -> CodingTask:
    return CodingTask(
        id=f"{unique}busy",
        encounter_key=f"{unique}other",
        hospital_id="mercy",
        vendor_id="northstar",
        pool_id="pro-pool",
        coder_id="coder-ava",
        status="open",
        due_at=datetime(2030, 1, 1, tzinfo=UTC),
        chart="{}",
    )


async def test_after_two_reworks_a_third_coding_denial_ends_the_encounter_denied_and_tells_ops(
    assignment: Assignment, unique: str
) -> None:
    # The rework budget (EncounterCodingInput.max_reworks, 2): a claim the coder cannot get
    # right is not sent back for ever; ops are told it stays denied.
    key = await _released(assignment, unique, pool("pro-pool", 3600))
    for version in (1, 2):
        await assignment.claim_comes_back(key, "denied", version=version, step=4, triage=[CO11])
        rework = (await _tasks(assignment, version + 1))[-1]
        assert rework.rework is not None and rework.coder_id == "coder-ava"
        await assignment.wait_for(key, lambda s: s.status == "rework_assigned")
        await assignment.submit(rework.task_id, key)
        await assignment.wait_for(
            key, lambda s, v=version: s.status == "released" and s.claim_version == v + 1
        )

    await assignment.claim_comes_back(key, "denied", version=3, step=4, triage=[CO11])

    result = await assignment.handle(key).result()
    assert (result.status, result.claim_version, len(result.reworks)) == ("claim_denied", 3, 2)
    assert len(await _tasks(assignment, 3)) == 3  # no third rework task
    [escalated] = of_type(
        await assignment.messages(topics.ASSIGNMENT_EVENTS, 1), EncounterEscalated
    )
    assert (escalated.encounter_key, escalated.reason) == (key, "reworks_used_up")
    assert [e.kind for e in result.escalations] == ["reworks_used_up"]
    [listed] = await assignment.ops.escalations(acknowledged=False, limit=10)
    assert (listed.encounter_key, listed.kind) == (key, "reworks_used_up")
    await replay_and_save(assignment.handle(key), "encounter_coding_reworks_used_up")
