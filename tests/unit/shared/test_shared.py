"""The shared package: envelopes, PHI redaction, per-service database addresses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.events.claims import ClaimStatusChanged
from shared.events.codes import DiagnosisCode
from shared.events.coding import CodingSubmitted
from shared.events.envelope import Envelope
from shared.events.intake import ChargeLine
from shared.logging import REDACTED, redact_phi
from shared.settings import ChartflowSettings


def test_envelope_round_trips_and_checks_its_payload_type() -> None:
    data = CodingSubmitted(
        task_id="t1",
        encounter_key="h:1",
        coder_id="c1",
        diagnoses=[DiagnosisCode(code="E11.9")],
        procedures=[],
    )
    envelope = Envelope.wrap(data, source="coding", subject="h:1", tenant="h", id="e1")

    back = Envelope.from_bytes(envelope.to_bytes())

    assert back.payload(CodingSubmitted) == data
    assert back.dataschema == "chartflow:chartflow.coding.submitted/v1"
    with pytest.raises(ValueError, match="expected event type"):
        back.payload(ClaimStatusChanged)


def test_phi_is_redacted_at_any_depth_and_codes_are_kept() -> None:
    event = {
        "event": "encounter.received",
        "patient": {"first_name": "Ann"},
        "detail": {"member_id": "M1", "code": "E11.9", "items": [{"birth_date": "1980-01-01"}]},
    }

    out = redact_phi(None, "info", event)

    assert out["patient"] == REDACTED
    assert out["detail"]["member_id"] == REDACTED
    assert out["detail"]["items"][0]["birth_date"] == REDACTED
    assert out["detail"]["code"] == "E11.9"
    assert "Ann" not in json.dumps(out)


def test_each_service_gets_its_own_database(tmp_path: Path) -> None:
    pg = ChartflowSettings(
        service_name="claims",
        database_url="postgresql+psycopg://u@h:5432/chartflow",
        chartflow_namespace_prefix="t1.",
    )
    lite = ChartflowSettings(service_name="intake", chartflow_var=tmp_path, database_url=None)

    assert pg.service_database_url() == "postgresql+psycopg://u@h:5432/chartflow_t1_claims"
    assert lite.service_database_url() == f"sqlite:///{tmp_path}/data/intake.db"


def test_a_charge_line_needs_a_code_or_a_revenue_code() -> None:
    assert ChargeLine.model_validate({"revenue_code": "0120", "charge": "10.00"}).code is None
    with pytest.raises(ValueError, match="needs a code, a revenue_code"):
        ChargeLine.model_validate({"charge": "10.00"})
