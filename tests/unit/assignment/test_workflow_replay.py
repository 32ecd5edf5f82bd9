"""Saved EncounterCoding histories still replay with today's workflow code (determinism)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from services.assignment.worker import WORKFLOW_RUNNER
from services.assignment.workflows import EncounterCoding

HISTORIES = sorted((Path(__file__).parents[2] / "fixtures/histories").glob("*.json"))
DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())


# The worker's runner (our modules passed through, for speed) and the SDK's default sandbox,
# which re-imports our workflow modules and so still catches a non-deterministic call in them.
RUNNERS = {"worker": WORKFLOW_RUNNER, "default-sandbox": SandboxedWorkflowRunner()}


@pytest.mark.parametrize("runner", RUNNERS.values(), ids=RUNNERS.keys())
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_saved_history_replays_without_nondeterminism(
    path: Path, runner: WorkflowRunner
) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())

    result = await Replayer(
        workflows=[EncounterCoding], data_converter=pydantic_data_converter, workflow_runner=runner
    ).replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None


def test_histories_exist_and_carry_no_patient_identifiers() -> None:
    assert HISTORIES, "record one: SAVE_WORKFLOW_HISTORY=tests/fixtures/histories pytest ..."
    assert {p.stem for p in HISTORIES} >= {
        "encounter_coding_released",
        "encounter_coding_breached",  # both recorded before physician queries existed
        "encounter_coding_query_answered",
        "encounter_coding_query_escalated",
        "encounter_coding_escalated",
        "encounter_coding_cancelled",
        "encounter_coding_audited",  # sampled as a new coder's, audited, then released
        # after release the workflow follows the claim (recorded before audits existed)
        "encounter_coding_claim_paid",
        "encounter_coding_claim_denied_billing",
        "encounter_coding_rework_paid",
        "encounter_coding_audited_claim_paid",  # audited, released, then its claim paid
        "encounter_coding_backlog_offered",  # waited in a full pool's backlog, offered a slot
        "encounter_coding_backlog_offered_local_join",  # joined the backlog as a local activity
        "encounter_coding_reworks_used_up",  # a third coding denial: escalated to ops
    }
    encounter = DEMO["encounters"][0]["encounter"]
    patient = encounter["patient"]
    # The chart text that physician queries quote stays out of history too (signals carry ids).
    note = [w.strip(",.;") for w in encounter["documents"][0]["text"].split() if len(w) > 12]
    assert "osteoarthritis" in note
    for path in HISTORIES:
        text = path.read_text()
        for value in (patient["first_name"], patient["last_name"], patient["birth_date"], *note):
            assert value not in text
