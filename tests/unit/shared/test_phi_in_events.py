"""PHI fields of events travel encrypted, with a key id; consumers open what they hold keys for."""

from __future__ import annotations

import json
import types
import typing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import BaseModel

import shared.events.access
import shared.events.assignment
import shared.events.claims
import shared.events.coding
import shared.events.intake
from shared.crypto import CLINICAL, IDENTITY, STORAGE, Keyring, PhiKeyError, use_keyring
from shared.events.assignment import CodingChart, CodingTaskCreated, EncounterCoded
from shared.events.claims import ClaimFinding, ClaimStatusChanged
from shared.events.envelope import Envelope, EventData
from shared.events.intake import BillingProvider, EncounterDocument, EncounterReceived
from tests.phi_markers import Search, marked_encounter

DEMO = json.loads((Path(__file__).parents[3] / "deploy/demo/data.json").read_text())
EVENT_MODULES = (
    shared.events.access,
    shared.events.assignment,
    shared.events.claims,
    shared.events.coding,
    shared.events.intake,
)
KEYS = {scope: Fernet.generate_key() for scope in (STORAGE, IDENTITY, CLINICAL)}


@pytest.fixture(autouse=True)
def keys() -> None:
    use_keyring(Keyring.of(KEYS.items()))


def _event_types() -> list[type[EventData]]:
    return [
        value
        for module in EVENT_MODULES
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, EventData) and value is not EventData
    ]


def _has_path(model: type[BaseModel], parts: list[str]) -> bool:
    field = model.model_fields.get(parts[0])
    if field is None:
        return False
    rest, kind = parts[1:], field.annotation
    while rest:
        origin = typing.get_origin(kind)
        if origin is list:
            if rest[0] != "*":
                return False
            rest, kind = rest[1:], typing.get_args(kind)[0]
        elif origin in (typing.Union, types.UnionType):
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            return _has_path(kind, rest)
        else:
            return False
    return True


def test_every_event_type_says_which_of_its_fields_are_phi_and_each_path_exists() -> None:
    types = _event_types()

    assert len(types) >= 6
    for event_type in types:
        assert "phi_paths" in vars(event_type), f"{event_type.__name__} declares no phi_paths"
        for path in event_type.phi_paths:
            assert _has_path(event_type, path.split(".")), f"{event_type.__name__}: {path}"


def _received(encounter: dict[str, Any]) -> EncounterReceived:
    billing = {k: DEMO["hospital"][k] for k in ("name", "npi", "tax_id", "address")}
    return EncounterReceived(
        encounter_key=f"mercy:{encounter['external_id']}",
        hospital_id="mercy",
        billing_provider=BillingProvider.model_validate(billing),
        encounter=EncounterDocument.model_validate(encounter),
    )


def test_phi_fields_are_ciphertext_on_the_wire_and_keys_ids_and_codes_stay_readable() -> None:
    encounter, markers = marked_encounter(DEMO["encounters"][1]["encounter"])
    received = _received(encounter)

    wire = Envelope.wrap(received, source="intake", subject="k", tenant="mercy").to_bytes()
    back = Envelope.from_bytes(wire)

    assert not Search(markers).hits(wire)
    sealed = back.data["encounter"]["patient"]
    assert set(sealed) == {"kid", "ct"} and sealed["kid"].startswith("identity.")
    assert back.data["encounter"]["documents"][0]["text"]["kid"].startswith("clinical.")
    assert back.data["encounter"]["encounter_class"] == "professional"  # routing stays readable
    assert back.data["encounter"]["external_id"] == encounter["external_id"]
    assert back.data["encounter"]["charges"]["kid"].startswith("clinical.")
    assert back.payload(EncounterReceived) == received


def test_every_event_type_carrying_phi_hides_it() -> None:
    encounter, markers = marked_encounter(DEMO["encounters"][1]["encounter"])
    document = EncounterDocument.model_validate(encounter)
    events: list[EventData] = [
        CodingTaskCreated(
            task_id="t", encounter_key="k", hospital_id="h", vendor_id="v", pool_id="p",
            due_at=datetime.now(UTC) + timedelta(days=1), chart=CodingChart.of(document),
        ),
        EncounterCoded(
            encounter_key="k", hospital_id="h", encounter=document, diagnoses=[],
            procedures=[], coder_id="c", billing_provider=_received(encounter).billing_provider,
        ),
    ]  # fmt: skip
    for event in events:
        wire = Envelope.wrap(event, source="t", subject="k", tenant="h").to_bytes()
        assert not Search(markers).hits(wire), type(event).__name__
        assert Envelope.from_bytes(wire).payload(type(event)) == event
    status = ClaimStatusChanged(
        encounter_key="k", claim_id="c1", patient_control_number="CF1", claim_type="professional",
        status="paid", total_charge=Decimal("987.65"), reason="835: paid 876.54 of 987.65",
        findings=[ClaimFinding(rule="R1", message="line 2 charge 987.65")], paid=Decimal("876.54"),
    )  # fmt: skip
    wire = Envelope.wrap(status, source="claims", subject="k", tenant="h").to_bytes()
    assert b"987.65" not in wire and b"876.54" not in wire
    assert b'"status":"paid"' in wire and b'"rule":"R1"' in wire


def test_a_coder_service_opens_the_chart_but_not_the_patients_identity() -> None:
    encounter, _ = marked_encounter(DEMO["encounters"][1]["encounter"])
    received = _received(encounter)
    task = CodingTaskCreated(
        task_id="t", encounter_key="k", hospital_id="h", vendor_id="v", pool_id="p",
        due_at=datetime.now(UTC), chart=CodingChart.of(received.encounter),
    )  # fmt: skip
    on_received = Envelope.wrap(received, source="intake", subject="k", tenant="h")
    on_tasks = Envelope.wrap(task, source="assignment", subject="k", tenant="h")

    use_keyring(Keyring.of(KEYS.items()).only([STORAGE, CLINICAL]))  # coding's entitlement

    assert on_tasks.payload(CodingTaskCreated) == task
    with pytest.raises(PhiKeyError, match="identity"):
        on_received.payload(EncounterReceived)


def test_after_a_rotation_new_events_use_the_newest_key_and_older_ones_still_open() -> None:
    encounter, _ = marked_encounter(DEMO["encounters"][1]["encounter"])
    received = _received(encounter)
    before = Envelope.wrap(received, source="intake", subject="k", tenant="h")
    old_kid = before.data["encounter"]["patient"]["kid"]

    newer = Fernet.generate_key()
    use_keyring(Keyring.of([(IDENTITY, newer), *KEYS.items()]))
    after = Envelope.wrap(received, source="intake", subject="k", tenant="h")

    assert after.data["encounter"]["patient"]["kid"] not in (old_kid, None)
    assert before.payload(EncounterReceived) == after.payload(EncounterReceived) == received
    use_keyring(
        Keyring.of([(IDENTITY, newer), (STORAGE, KEYS[STORAGE]), (CLINICAL, KEYS[CLINICAL])])
    )
    with pytest.raises(PhiKeyError, match="retired"):  # the old key removed: old events are dark
        before.payload(EncounterReceived)
