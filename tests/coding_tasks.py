"""Coding tasks and audits as the `coding.tasks` consumer receives them, for tests of coding's
app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from services.coding import audits, handlers
from shared.events.assignment import AuditTaskCreated, CodingChart, CodingTaskCreated
from shared.events.envelope import Envelope
from shared.events.intake import EncounterDocument

DEMO = json.loads((Path(__file__).parents[1] / "deploy/demo/data.json").read_text())
ENCOUNTER = DEMO["encounters"][0]["encounter"]
ENCOUNTER_KEY = "mercy:DEMO-OV-1001"


def deliver_task(app: FastAPI, task_id: str, pool_id: str = "pro") -> None:
    """A task of the demo's first encounter for vendor northstar's `pool_id`, due in a day."""
    created = CodingTaskCreated(
        task_id=task_id,
        encounter_key=ENCOUNTER_KEY,
        hospital_id="mercy",
        vendor_id="northstar",
        pool_id=pool_id,
        due_at=datetime.now(UTC) + timedelta(days=1),
        chart=CodingChart.of(EncounterDocument.model_validate(ENCOUNTER)),
    )
    envelope = Envelope.wrap(created, source="test", subject=ENCOUNTER_KEY, tenant="mercy")
    app.state.runtime.db.run_sync(lambda s: handlers.take_task(s, envelope))


def deliver_audit(
    app: FastAPI, audit_id: str, task_id: str, coder_id: str, prefer_other_vendor: bool = False
) -> None:
    """The audit of `coder_id`'s task `task_id` of the demo's first encounter (pool "pro"), as
    assignment samples it: a new coder's."""
    sampled = AuditTaskCreated(
        audit_id=audit_id,
        encounter_key=ENCOUNTER_KEY,
        hospital_id="mercy",
        task_id=task_id,
        coder_id=coder_id,
        vendor_id="northstar",
        pool_id="pro",
        due_at=datetime.now(UTC) + timedelta(days=1),
        rule="new_coder",
        reason="0 of 30 audits done",
        credentials=["CPC", "CCS-P"],
        prefer_other_vendor=prefer_other_vendor,
    )
    envelope = Envelope.wrap(sampled, source="test", subject=ENCOUNTER_KEY, tenant="mercy")
    app.state.runtime.db.run_sync(lambda s: audits.take_audit(s, envelope))
