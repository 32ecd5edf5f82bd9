"""Claims' HTTP API (admins and billers): payers and claims with their 837."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from services.claims.db import ClaimRow, ClaimTransition, PayerRow
from services.claims.domain import IllegalTransition, UnknownClaim
from services.claims.payer_sim import Adjudication
from services.claims.reads import read_claim, read_claims_for
from services.claims.remittances import receive_remittance
from services.claims.repository import ClaimsRepository
from services.claims.views import claim_837
from services.claims.voids import ClaimNotFound, NotVoidable, void_claim
from shared.events.bounds import PlainName
from shared.http import (
    AdminOnly,
    EncounterKeyQuery,
    IdPath,
    RuntimeDep,
    SettingsDep,
    problem_response,
)
from shared.http.access import RouteName

router = APIRouter()


class PayerIn(BaseModel):
    payer_id: str = Field(pattern=r"^[A-Za-z0-9]{2,80}$")
    name: PlainName = Field(min_length=1, max_length=60)
    claim_types: list[Literal["professional", "institutional"]] = Field(min_length=1, max_length=2)
    receiver_id: str = Field(pattern=r"^[A-Za-z0-9]{2,15}$")
    simulator: dict[str, Any] = Field(
        default_factory=dict,
        description="How the simulated payer adjudicates: "
        '{"default": {"action": "pay|deny|reduce", "carc": "50", "percent": 20}, '
        '"scenarios": [{"match": {"member_id": "..."}, "action": "deny", "carc": "11"}]}',
    )
    endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]{0,200})?$",
        description="The payer's HTTP endpoint (e.g. the HTTP payer simulator); "
        "none: the simulator above, in process",
    )


@router.put("/v1/admin/payers/{payer_id}", dependencies=[AdminOnly])
async def put_payer(payer_id: IdPath, body: PayerIn, rt: RuntimeDep) -> PayerIn:
    if payer_id != body.payer_id:
        raise HTTPException(422, "payer_id in the path and the body differ")
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
        endpoint=body.endpoint,
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
    encounter_key: EncounterKeyQuery, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> list[dict[str, Any]]:
    rows = await rt.db.run(lambda s: read_claims_for(s, settings, encounter_key, route))
    summary = {"x12", "findings", "document", "remittance", "triage"}
    return [
        {**r.model_dump(mode="json", exclude=summary), "triage": json.loads(r.triage)} for r in rows
    ]


@router.get("/v1/claims/{claim_id}", dependencies=[AdminOnly])
async def get_claim(
    claim_id: IdPath, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> dict[str, Any]:
    row, steps = await load(rt, settings, route, claim_id, "claim.read")
    view = row.model_dump(
        mode="json", exclude={"x12", "findings", "document", "remittance", "triage"}
    )
    return {
        **view,
        "triage": json.loads(row.triage),
        "findings": json.loads(row.findings),
        "remittance": json.loads(row.remittance or "{}"),
        "history": [t.model_dump(mode="json", exclude={"id", "claim_id"}) for t in steps],
    }


@router.get("/v1/claims/{claim_id}/x12", dependencies=[AdminOnly])
async def get_claim_x12(
    claim_id: IdPath, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> PlainTextResponse:
    row, _ = await load(rt, settings, route, claim_id, "claim.x12.read")
    text = await rt.db.run(lambda s: claim_837(s, row))
    return PlainTextResponse(text, media_type="application/edi-x12")


class VoidOut(BaseModel):
    claim_id: str = Field(description="the void: a new version of the claim, frequency 8")
    version: int
    voids_claim_id: str
    status: str = Field(description="built (it goes in the payer's next batch) or held")
    reason: str


@router.post(
    "/v1/admin/claims/{claim_id}/void",
    status_code=202,
    dependencies=[AdminOnly],
    responses={409: problem_response("The claim cannot be voided (the answer says why)")},
)
async def post_void(claim_id: IdPath, rt: RuntimeDep) -> VoidOut:
    """Void a claim the payer adjudicated: a new version with frequency 8 and REF*F8."""
    try:
        row = await rt.db.run(lambda s: void_claim(s, rt.settings, claim_id))
    except ClaimNotFound as exc:
        raise HTTPException(404, f"no claim {claim_id}") from exc
    except NotVoidable as exc:
        raise HTTPException(409, str(exc)) from exc
    return VoidOut(
        claim_id=row.id,
        version=row.version,
        voids_claim_id=row.replaces_claim_id or "",
        status=row.status,
        reason=row.reason,
    )


class RemittanceOut(BaseModel):
    remittances: int = Field(description="remittances applied (one received before is skipped)")
    claims_moved: int
    provider_adjustments: int = Field(description="PLB adjustments recorded")


@router.post(
    "/v1/admin/payers/{payer_id}/remittances",
    dependencies=[AdminOnly],
    openapi_extra={
        "requestBody": {"content": {"application/edi-x12": {"schema": {"type": "string"}}}}
    },
)
async def post_remittance(payer_id: str, request: Request, rt: RuntimeDep) -> RemittanceOut:
    """An 835 the payer sent on its own: reversals (CLP02 22), corrections and PLB."""
    text = (await request.body()).decode("utf-8", "replace")
    if await rt.db.run(lambda s: ClaimsRepository(s).payer(payer_id)) is None:
        raise HTTPException(404, f"no payer {payer_id}")
    try:
        receipt = await rt.db.run(lambda s: receive_remittance(s, rt.settings, payer_id, text))
    except (UnknownClaim, IllegalTransition) as exc:  # their text names claims, not people
        raise HTTPException(422, f"the 835 cannot be applied: {exc}") from exc
    except (ValueError, ArithmeticError) as exc:
        raise HTTPException(422, f"the 835 cannot be read ({type(exc).__name__})") from exc
    return RemittanceOut(**vars(receipt))
