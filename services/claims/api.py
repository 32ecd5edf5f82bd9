"""Claims' HTTP API (admins and billers): payers and claims with their 837."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from services.claims.db import ClaimRow, ClaimTransition, PayerRow
from services.claims.payer_sim import Adjudication
from services.claims.reads import read_claim, read_claims_for
from shared.http import AdminOnly, RuntimeDep, SettingsDep
from shared.http.access import RouteName

router = APIRouter()


class PayerIn(BaseModel):
    payer_id: str = Field(pattern=r"^[A-Za-z0-9]{2,80}$")
    name: str = Field(min_length=1, max_length=60)
    claim_types: list[str] = Field(min_length=1)
    receiver_id: str = Field(pattern=r"^[A-Za-z0-9]{2,15}$")
    simulator: dict[str, Any] = Field(
        default_factory=dict,
        description="How the simulated payer adjudicates: "
        '{"default": {"action": "pay|deny|reduce", "carc": "50", "percent": 20}}',
    )


@router.put("/v1/admin/payers/{payer_id}", dependencies=[AdminOnly])
async def put_payer(payer_id: str, body: PayerIn, rt: RuntimeDep) -> PayerIn:
    if payer_id != body.payer_id:
        raise HTTPException(422, "payer_id in the path and the body differ")
    unknown = set(body.claim_types) - {"professional", "institutional"}
    if unknown:
        raise HTTPException(422, f"claim_types: unknown {sorted(unknown)}")
    try:
        Adjudication.from_dict(body.simulator)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise HTTPException(422, f"simulator: {exc}") from exc
    row = PayerRow(
        payer_id=body.payer_id,
        name=body.name,
        claim_types=",".join(body.claim_types),
        receiver_id=body.receiver_id,
        simulator=json.dumps(body.simulator),
    )
    await rt.db.run(lambda s: s.merge(row))
    return body


async def load(
    rt: RuntimeDep, settings: SettingsDep, route: RouteName, claim_id: str, action: str
) -> tuple[ClaimRow, list[ClaimTransition]]:
    found = await rt.db.run(lambda s: read_claim(s, settings, claim_id, action, route))
    if found is None:
        raise HTTPException(404, f"no claim {claim_id}")
    return found


@router.get("/v1/claims", dependencies=[AdminOnly])
async def list_claims(
    encounter_key: str, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> list[dict[str, Any]]:
    rows = await rt.db.run(lambda s: read_claims_for(s, settings, encounter_key, route))
    summary = {"x12", "findings", "document", "remittance"}
    return [r.model_dump(mode="json", exclude=summary) for r in rows]


@router.get("/v1/claims/{claim_id}", dependencies=[AdminOnly])
async def get_claim(
    claim_id: str, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> dict[str, Any]:
    row, steps = await load(rt, settings, route, claim_id, "claim.read")
    view = row.model_dump(mode="json", exclude={"x12", "findings", "document", "remittance"})
    return {
        **view,
        "findings": json.loads(row.findings),
        "remittance": json.loads(row.remittance or "{}"),
        "history": [t.model_dump(mode="json", exclude={"id", "claim_id"}) for t in steps],
    }


@router.get("/v1/claims/{claim_id}/x12", dependencies=[AdminOnly])
async def get_claim_x12(
    claim_id: str, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> PlainTextResponse:
    row, _ = await load(rt, settings, route, claim_id, "claim.x12.read")
    return PlainTextResponse(row.x12, media_type="application/edi-x12")
