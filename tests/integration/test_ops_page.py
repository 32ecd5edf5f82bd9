"""The ops page's figures on the real Temporal server, Kafka and database: encounters driven
through (waiting for a pool, assigned, breached and escalated, coded, billed), then the
figures read back, and each figure's Temporal UI link lists exactly the encounters counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session

from services.assignment.db import PoolTask, VendorPool
from services.assignment.milestones_db import EncounterMilestone
from services.assignment.ops_dashboard import Dashboard, OpsDashboard
from services.assignment.settings import AssignmentSettings
from shared.events import topics
from shared.events.assignment import CodingTaskCreated, EncounterEscalated
from shared.events.claims import ClaimStatusChanged
from shared.events.envelope import Envelope
from shared.events.intake import EncounterDocument, EncounterReceived
from tests.integration.conftest import DEMO, Assignment, of_type, received, wrap

pytestmark = [pytest.mark.temporal, pytest.mark.kafka]

UI = "http://ui.example:8233"
WINDOW = timedelta(hours=1)


def _encounter(
    unique: str, index: int, external_id: str, service_date: date | None = None
) -> Envelope:
    """Demo encounter `index` under its own key, its service date moved when asked."""
    template = received(unique).payload(EncounterReceived)
    document = EncounterDocument.model_validate(DEMO["encounters"][index]["encounter"])
    document = document.model_copy(update={"external_id": external_id})
    if service_date is not None:
        document = document.model_copy(update={"service_date": service_date})
    key = f"{unique}mercy:{external_id}"
    event = template.model_copy(update={"encounter_key": key, "encounter": document})
    return wrap(event, key)


def _pools(session: Session) -> None:
    def pool(pool_id: str, sla: int, capacity: int, classes: str, credentials: str) -> VendorPool:
        return VendorPool(
            id=pool_id,
            vendor_id="northstar",
            name=pool_id,
            credentials=credentials,
            encounter_classes=classes,
            capacity=capacity,
            sla_seconds=sla,
        )

    session.add(pool("only", 2, 100, "professional", "CPC"))  # breaches in 2 s
    session.add(pool("ip-full", 3600, 1, "inpatient", "CCS"))
    # ip-full is full: an inpatient encounter waits for it
    session.add(PoolTask(task_id="elsewhere", encounter_key="elsewhere", pool_id="ip-full"))


def _longer_sla(session: Session) -> None:
    pool = session.get(VendorPool, "only")
    assert pool is not None
    pool.sla_seconds = 3600
    session.add(pool)


async def _task_of(assignment: Assignment, key: str) -> CodingTaskCreated:
    async with asyncio.timeout(30):
        while True:
            created = of_type(await assignment.messages(topics.CODING_TASKS, 1), CodingTaskCreated)
            mine = [t for t in created if t.encounter_key == key]
            if mine:
                return mine[-1]
            await asyncio.sleep(0.3)


async def _start(assignment: Assignment, encounter: Envelope, status: str) -> str:
    await assignment.handlers.on_encounter_received(encounter)
    await assignment.wait_for(encounter.subject, lambda s: s.status == status)
    return encounter.subject


async def _listed(assignment: Assignment, url: str) -> set[str]:
    """The encounter keys the Temporal UI list at `url` shows (the same query, run here)."""
    [query] = parse_qs(urlsplit(url).query)["query"]
    prefix = f"{assignment.settings.chartflow_namespace_prefix}encounter-coding/"
    return {wf.id.removeprefix(prefix) async for wf in assignment.client.list_workflows(query)}


async def test_figures_and_their_temporal_lists_after_a_few_encounters(
    assignment: Assignment, unique: str
) -> None:
    await assignment.db.run(_pools)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)

    breached = await _start(assignment, _encounter(unique, 0, "BREACH-1"), "escalated")
    await assignment.db.run(_longer_sla)  # the next ones stay within it
    waiting = await _start(assignment, _encounter(unique, 4, "IP-WAIT"), "waiting_for_pool")
    billed = await _start(assignment, _encounter(unique, 1, "BILLED-1"), "assigned")
    coded = await _start(assignment, _encounter(unique, 5, "CODED-1", yesterday), "assigned")
    assigned = await _start(assignment, _encounter(unique, 0, "OPEN-1"), "assigned")
    for key in (billed, coded):
        await assignment.submit((await _task_of(assignment, key)).task_id, key)
        await assignment.wait_for(key, lambda s: s.status == "released")
    await assignment.claim_comes_back(coded, status="submitted", step=1)  # sent, not accepted
    await assignment.result_once_paid(billed)
    [escalated] = of_type(
        await assignment.messages(topics.ASSIGNMENT_EVENTS, 1), EncounterEscalated
    )
    assert escalated.encounter_key == breached

    settings = AssignmentSettings(
        temporal_ui_url=UI,
        ops_dnfb_goal_days=4,
        chartflow_namespace_prefix=assignment.settings.chartflow_namespace_prefix,
    )
    ops = OpsDashboard(assignment.db, assignment.client, settings)

    async def settled() -> Dashboard:
        """Visibility catches up with the workflows within seconds."""
        async with asyncio.timeout(30):
            while True:
                figures = await ops.figures(WINDOW)
                if figures.breaches.past_sla == 1 and figures.waiting == 1:
                    return figures
                await asyncio.sleep(0.5)

    figures = await settled()
    now = figures.generated_at

    # DNFB: everything but the billed one; the demo dates are months back, "coded" yesterday.
    dnfb = figures.dnfb
    assert dnfb.count == 4
    assert dnfb.over_goal == 3
    inpatient_age = (now - datetime(2026, 9, 13, 11, tzinfo=UTC)).total_seconds() / 86_400
    professional_age = (now - datetime(2026, 9, 14, tzinfo=UTC)).total_seconds() / 86_400
    assert dnfb.max_days == pytest.approx(inpatient_age, abs=0.01)
    assert dnfb.oldest[0].encounter_key == waiting
    assert {o.encounter_key for o in dnfb.oldest[1:]} == {breached, assigned}
    assert dnfb.oldest[1].age_days == pytest.approx(professional_age, abs=0.01)
    assert sum(dnfb.age_histogram) == 4 and dnfb.age_histogram[1] == 1  # yesterday
    assert await _listed(assignment, figures.links["dnfb"]) == {
        breached,
        waiting,
        coded,
        assigned,
    }
    assert await _listed(assignment, figures.links[f"oldest:{waiting}"]) == {waiting}

    # Backlog per pool against capacity; the inpatient encounter waits for ip-full.
    pools = {p.pool_id: (p.open_tasks, p.waiting, p.capacity) for p in figures.pools}
    assert pools == {"only": (2, 0, 100), "ip-full": (1, 1, 1)}
    assert await _listed(assignment, figures.links["pool:only"]) == {breached, assigned}
    assert await _listed(assignment, figures.links["waiting"]) == {waiting}

    # Turnaround and throughput: two professional encounters coded, one billed.
    [professional] = figures.turnaround
    assert (professional.encounter_class, professional.coded, professional.billed) == (
        "professional",
        2,
        1,
    )
    assert 0 < (professional.to_coded_p50 or 0) <= (professional.to_billed_p90 or 0) < 120
    assert sum(i.coded for i in figures.throughput) == 2
    assert sum(i.billed for i in figures.throughput) == 1
    assert figures.throughput[-1].coded + figures.throughput[-2].coded == 2  # just now
    assert await _listed(assignment, figures.links["coded"]) == {billed, coded}
    assert await _listed(assignment, figures.links["billed"]) == {billed}

    # SLA breaches and escalations.
    assert figures.breaches.past_sla == 1
    assert figures.breaches.escalations_open == 1
    assert figures.breaches.escalations_in_window == {"no_other_pool": 1}
    assert await _listed(assignment, figures.links["past_sla"]) == {breached}
    assert await _listed(assignment, figures.links["escalations_open"]) == {breached}

    for url in figures.links.values():
        assert url.startswith(f"{UI}/namespaces/default/workflows?query=")
    for key in (breached, waiting, coded, assigned):  # not left running on the shared server
        await assignment.handle(key).terminate("test over")


async def test_billed_is_when_claims_recorded_the_step_not_when_it_was_read(
    assignment: Assignment, unique: str
) -> None:
    """A claim step read an hour late (a lagging consumer, a restart) is billed at its time."""
    await assignment.db.run(_pools)
    await assignment.db.run(_longer_sla)
    key = await _start(assignment, _encounter(unique, 1, "LATE-1"), "assigned")
    await assignment.submit((await _task_of(assignment, key)).task_id, key)
    await assignment.wait_for(key, lambda s: s.status == "released")
    recorded = datetime.now(UTC) - timedelta(hours=1)
    change = ClaimStatusChanged(
        encounter_key=key,
        claim_id="claim-1",
        patient_control_number="PCN1",
        claim_type="professional",
        status="paid",
        total_charge=Decimal("330.00"),
        reason="835: paid",
        paid=Decimal("330.00"),
        payer_id="ACMEHLTH",
        step=4,
    )
    await assignment.handlers.on_claim_status(
        wrap(change, key).model_copy(update={"time": recorded})
    )
    await assignment.handle(key).result()

    row = await assignment.db.run(lambda s: s.get(EncounterMilestone, key))
    assert row is not None and row.billed_at is not None
    billed = row.billed_at if row.billed_at.tzinfo else row.billed_at.replace(tzinfo=UTC)
    assert abs(billed - recorded) < timedelta(seconds=1)
