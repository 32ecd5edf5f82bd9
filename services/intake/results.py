"""What intake keeps when an encounter is coded, returned or its claim moves, and the webhook
deliveries that tell the hospital (in the same transaction as the state change)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from services.intake.db import Encounter
from services.intake.outbound_db import EncounterCodes, OutboundRepository, WebhookDelivery
from shared.events.assignment import EncounterCoded
from shared.events.claims import ClaimStatusChanged


def on_coded(session: Session, encounter: Encounter, coded: EncounterCoded, at: datetime) -> None:
    repo = OutboundRepository(session)
    codes = repo.codes(encounter.id) or EncounterCodes(
        encounter_id=encounter.id, diagnoses="[]", procedures="[]"
    )
    codes.diagnoses = json.dumps([d.model_dump(exclude_none=True) for d in coded.diagnoses])
    codes.procedures = json.dumps([p.model_dump() for p in coded.procedures])
    codes.coded_at = at
    repo.add(codes)
    announce(session, encounter, "encounter.coded", at, {"status": "coded"})


def on_returned(session: Session, encounter: Encounter, reason: str, at: datetime) -> None:
    """The reason code only: the coder's note may quote the chart."""
    announce(session, encounter, "encounter.returned", at, {"status": "returned", "reason": reason})


def on_claim_status(
    session: Session, encounter: Encounter, change: ClaimStatusChanged, at: datetime
) -> None:
    data = {"claim_id": change.claim_id, "claim_status": change.status}
    announce(session, encounter, "claim.status", at, data)


def announce(
    session: Session, encounter: Encounter, event: str, at: datetime, data: dict[str, Any]
) -> None:
    """Queue one delivery per webhook of the hospital subscribed to `event`. Bodies carry the
    ids the hospital already has and statuses, never PHI."""
    repo = OutboundRepository(session)
    for webhook in repo.webhooks(encounter.hospital_id):
        if event not in json.loads(webhook.events):
            continue
        delivery = WebhookDelivery(
            webhook_id=webhook.id, encounter_id=encounter.id, event_type=event, payload=""
        )
        delivery.payload = json.dumps(
            {
                "id": delivery.id,
                "type": event,
                "created_at": at.isoformat(),
                "data": {
                    "encounter_id": encounter.id,
                    "external_id": encounter.external_id,
                    **data,
                },
            }
        )
        repo.add(delivery)
