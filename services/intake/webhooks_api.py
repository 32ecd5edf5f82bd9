"""Hospitals register webhooks for results pushed back (coded, returned, query raised, claim
status) and read every delivery with its attempts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import AnyHttpUrl, BaseModel, Field, UrlConstraints

from services.intake import webhooks
from services.intake.api import CurrentHospital
from services.intake.outbound_db import Webhook
from shared.http import IdPath, RuntimeDep

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
EventName = Literal["encounter.coded", "encounter.returned", "query.raised", "claim.status"]
WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]


class WebhookIn(BaseModel):
    url: WebhookUrl
    events: list[EventName] = Field(min_length=1, max_length=4)


class WebhookView(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Webhook) -> WebhookView:
        return cls(
            id=row.id,
            url=row.url,
            events=json.loads(row.events),
            active=row.active,
            created_at=row.created_at,
        )


class RegisteredWebhook(WebhookView):
    secret: str = Field(description="signs every delivery; shown only now")


class AttemptView(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryView(BaseModel):
    id: str
    event_type: str
    encounter_id: str
    status: str
    body: dict[str, object]
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    attempts: list[AttemptView]


@router.post("", status_code=201)
async def register(body: WebhookIn, hospital: CurrentHospital, rt: RuntimeDep) -> RegisteredWebhook:
    row = await rt.db.run(
        lambda s: webhooks.register(s, hospital.id, str(body.url), list(body.events))
    )
    return RegisteredWebhook(**WebhookView.of(row).model_dump(), secret=row.secret)


@router.get("")
async def list_webhooks(hospital: CurrentHospital, rt: RuntimeDep) -> list[WebhookView]:
    rows = await rt.db.run(lambda s: webhooks.OutboundRepository(s).webhooks(hospital.id, False))
    return [WebhookView.of(r) for r in rows]


@router.delete("/{webhook_id}", status_code=204)
async def remove(webhook_id: IdPath, hospital: CurrentHospital, rt: RuntimeDep) -> Response:
    if not await rt.db.run(lambda s: webhooks.remove(s, hospital.id, webhook_id)):
        raise HTTPException(404, f"no active webhook {webhook_id} for this hospital")
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries")
async def deliveries(
    webhook_id: IdPath,
    hospital: CurrentHospital,
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryView]:
    """The latest deliveries first, each with every attempt (status code or failure kind)."""
    records = await rt.db.run(lambda s: webhooks.deliveries(s, hospital.id, webhook_id, limit))
    if records is None:
        raise HTTPException(404, f"no webhook {webhook_id} for this hospital")
    return [
        DeliveryView(
            id=r.delivery.id,
            event_type=r.delivery.event_type,
            encounter_id=r.delivery.encounter_id,
            status=r.delivery.status,
            body=json.loads(r.delivery.payload),
            created_at=r.delivery.created_at,
            next_attempt_at=r.delivery.next_attempt_at if r.delivery.status == "pending" else None,
            delivered_at=r.delivery.delivered_at,
            attempts=[
                AttemptView(
                    at=a.attempted_at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in r.attempts
            ],
        )
        for r in records
    ]
