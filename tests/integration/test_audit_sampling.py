"""QA sampling in EncounterCoding on the real Temporal server, Kafka and database: a new
coder's first encounters are all audited, then sampling drops to the pool's rate."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pytest
from sqlmodel import Session

from services.assignment.audit_db import AuditRecords
from services.assignment.domain.models import CodingStatus
from services.assignment.domain.sampling import SamplingPolicy
from shared.events import topics
from shared.events.assignment import (
    AuditTaskCreated,
    CodingTaskCreated,
    EncounterCoded,
    EncounterEscalated,
)
from shared.events.codes import DiagnosisCode
from shared.events.coding import AuditCompleted
from tests.integration.conftest import Assignment, of_type, pool, received, replay_and_save, wrap

pytestmark = [pytest.mark.temporal, pytest.mark.kafka]

NEW_CODER_AUDITS = 2
Task = TypeVar("Task", CodingTaskCreated, AuditTaskCreated)


async def test_a_new_coders_first_encounters_are_audited_then_the_pools_rate_applies(
    assignment: Assignment, unique: str
) -> None:
    policy = SamplingPolicy(new_coder_audits=NEW_CODER_AUDITS, random_percent=0)

    def set_up(session: Session) -> None:
        session.add(pool("pro-pool", 3600))
        AuditRecords(session).put("pro-pool", "", policy)

    await assignment.db.run(set_up)
    audited_codes = [DiagnosisCode(code="E11.9"), DiagnosisCode(code="I10")]
    decisions: list[tuple[str | None, str]] = []
    for n in range(NEW_CODER_AUDITS + 1):
        key = await _code_one(assignment, f"{unique}{n}-")
        status = await assignment.wait_for(key, lambda s: s.audit is not None)
        assert status.audit is not None
        decisions.append((status.audit.decision.rule, status.audit.decision.reason))
        if status.audit.decision.audit:
            await _audit(assignment, key, status, audited_codes)
        assert (await assignment.result_once_paid(key)).status == "claim_paid"
        [coded] = [
            c
            for c in of_type(
                await assignment.messages(topics.ENCOUNTERS_CODED, n + 1), EncounterCoded
            )
            if c.encounter_key == key
        ]
        expected = audited_codes if n < NEW_CODER_AUDITS else [DiagnosisCode(code="E11.9")]
        assert coded.diagnoses == expected  # an audited claim carries the auditor's codes
        if n == 0:
            await replay_and_save(assignment.handle(key), "encounter_coding_audited_claim_paid")

    assert [rule for rule, _ in decisions] == ["new_coder", "new_coder", None]
    assert [why for _, why in decisions[:2]] == ["0 of 2 audits done", "1 of 2 audits done"]
    assert decisions[2][1].startswith("no rule; draw ")  # the pool's rate (0%) decided


async def _code_one(assignment: Assignment, prefix: str) -> str:
    """A new encounter, routed to the pool and coded by coder-ava; its key."""
    encounter = received(prefix)
    await assignment.handlers.on_encounter_received(encounter)
    task = await _created(assignment, CodingTaskCreated, encounter.subject)
    await assignment.submit(task.task_id, encounter.subject)
    return encounter.subject


async def _audit(
    assignment: Assignment, key: str, status: CodingStatus, codes: list[DiagnosisCode]
) -> None:
    """The audit task goes to coding; the auditor's final codes come back as coding sends them."""
    task = await _created(assignment, AuditTaskCreated, key)
    assert (task.audit_id, task.coder_id, task.rule) == (
        status.audit and status.audit.audit_id,
        "coder-ava",
        "new_coder",
    )
    completed = AuditCompleted(
        audit_id=task.audit_id,
        encounter_key=key,
        task_id=task.task_id,
        coder_id="coder-ava",
        auditor_id="auditor-cy",
        diagnoses=codes,
        procedures=[],
        matched=1,
        errors=0,
        accuracy_percent=100.0,
        record_accurate=True,
    )
    await assignment.handlers.on_coding_submitted(wrap(completed, key))


async def _created(assignment: Assignment, kind: type[Task], key: str) -> Task:
    """The task of this kind published for the encounter (read from the topic's start)."""
    async with asyncio.timeout(30):
        while True:
            found = [
                t
                for t in of_type(await assignment.messages(topics.CODING_TASKS, 1), kind)
                if t.encounter_key == key
            ]
            if found:
                return found[0]


async def test_an_overdue_audit_escalates_to_ops_and_the_claim_still_waits_for_it(
    assignment: Assignment, unique: str
) -> None:
    policy = SamplingPolicy(new_coder_audits=NEW_CODER_AUDITS, audit_sla_seconds=1)

    def set_up(session: Session) -> None:
        session.add(pool("pro-pool", 3600))
        AuditRecords(session).put("pro-pool", "", policy)

    await assignment.db.run(set_up)
    key = await _code_one(assignment, unique)

    status = await assignment.wait_for(key, lambda s: s.status == "audit_overdue")
    [escalated] = [
        e
        for e in of_type(await assignment.messages(topics.ASSIGNMENT_EVENTS, 1), EncounterEscalated)
        if e.encounter_key == key
    ]
    assert (escalated.reason, escalated.task_id) == ("audit_overdue", status.task_id)
    assert [e.kind for e in status.escalations] == ["audit_overdue"]
    assert await assignment.messages(topics.ENCOUNTERS_CODED, 0) == []  # no claim yet
    await _audit(assignment, key, status, [DiagnosisCode(code="E11.65")])
    assert (await assignment.result_once_paid(key)).status == "claim_paid"
    [coded] = of_type(await assignment.messages(topics.ENCOUNTERS_CODED, 1), EncounterCoded)
    assert coded.diagnoses == [DiagnosisCode(code="E11.65")]
