"""Coding tasks as the `coding.tasks` consumer receives them, for tests of coding's app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from services.coding import handlers
from shared.events.assignment import CodingChart, CodingTaskCreated
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
