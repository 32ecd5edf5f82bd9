"""Intake's HTTP API: hospitals push encounters, read their status and answer physician queries;
admins register hospitals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from services.intake import handlers, physician_queries
from services.intake.claims_db import ClaimChain, ClaimVersion
from services.intake.db import Encounter, Hospital, IntakeRepository
from shared.events.bounds import NOTE_TEXT, PlainName
from shared.events.intake import Address, EncounterDocument, PhysicianAnswer
from shared.http import (
    AdminOnly,
    IdPath,
    RuntimeDep,
    SettingsDep,
    api_key_owner,
    api_key_scheme,
    problem,
    problem_response,
)
from shared.http.access import RouteName

router = APIRouter()


class HospitalIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    name: PlainName = Field(min_length=1, max_length=60)
    npi: str = Field(pattern=r"^\d{10}$")
    tax_id: str = Field(pattern=r"^\d{9}$")
    address: Address
    cdi_contact: PlainName | None = Field(
        default=None,
        max_length=200,
        description="Who follows up physician queries still unanswered after the reminders.",
    )


class AnswerIn(BaseModel):
    """The physician's answer: one of the query's options (with words for "Other"), or words
    alone for an open-ended query."""

    answered_by_npi: str = Field(pattern=r"^\d{10}$")
    choice: str | None = Field(default=None, max_length=300, pattern=NOTE_TEXT)
    text: str | None = Field(default=None, max_length=4_000, pattern=NOTE_TEXT)


class ClaimView(BaseModel):
    """The encounter's newest claim (see `claims` for every version)."""

    claim_id: str | None
    status: str | None
    reason: str | None
    findings: list[dict[str, Any]]
    total_charge: str | None
    paid: str | None
    history: list[dict[str, str]]


class ClaimVersionView(BaseModel):
    """One claim of the encounter: the original, a replacement (frequency 7) or a void (8),
    each with its own history and the payer's last verdict classified (`triage`)."""

    claim_id: str
    version: int
    frequency: str
    replaces_claim_id: str | None
    payer_claim_id: str | None
    status: str
    reason: str
    total_charge: str | None
    paid: str | None
    triage: list[dict[str, Any]]
    history: list[dict[str, str]]

    @classmethod
    def of(cls, row: ClaimVersion) -> ClaimVersionView:
        return cls(
            **row.model_dump(exclude={"triage", "history", "encounter_key", "hospital_id"}),
            triage=json.loads(row.triage),
            history=[
                {k: v for k, v in step.items() if k != "event"} for step in json.loads(row.history)
            ],
        )


class EncounterView(BaseModel):
    id: str
    external_id: str
    encounter_key: str
    encounter_class: str
    status: str
    returned_reason: str | None = Field(
        default=None, description="Why a coder returned the encounter uncoded (status returned)."
    )
    claim: ClaimView
    claims: list[ClaimVersionView] = Field(
        default_factory=list, description="Every claim version of the encounter, oldest first."
    )
    received_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Encounter, versions: list[ClaimVersion] | None = None) -> EncounterView:
        chain = [ClaimVersionView.of(v) for v in versions or []]
        # `claim` is the newest version; its history is that version's (each keeps its own)
        history = chain[-1].history if chain else json.loads(row.claim_history)
        return cls(
            id=row.id,
            external_id=row.external_id,
            encounter_key=row.encounter_key,
            encounter_class=row.encounter_class,
            status=row.status,
            returned_reason=row.return_reason,
            claim=ClaimView(
                claim_id=row.claim_id,
                status=row.claim_status,
                reason=row.claim_reason,
                findings=json.loads(row.claim_findings or "[]"),
                total_charge=row.claim_total,
                paid=row.claim_paid,
                history=history,
            ),
            claims=chain,
            received_at=row.received_at,
            updated_at=row.updated_at,
        )


HOSPITAL_KEY = api_key_scheme("HospitalApiKey", "The hospital's API key")


async def current_hospital(
    rt: RuntimeDep, x_api_key: Annotated[str | None, Security(HOSPITAL_KEY)] = None
) -> Hospital:
    return await api_key_owner(
        rt, x_api_key, lambda s, h: IntakeRepository(s).hospital_by_key_hash(h)
    )


CurrentHospital = Annotated[Hospital, Depends(current_hospital)]


@router.post("/v1/admin/hospitals", status_code=201, dependencies=[AdminOnly])
async def register_hospital(body: HospitalIn, rt: RuntimeDep) -> dict[str, str]:
    api_key = await rt.db.run(
        lambda s: handlers.register_hospital(
            s, body.id, body.name, body.npi, body.tax_id, body.address, body.cdi_contact
        )
    )
    return {"hospital_id": body.id, "api_key": api_key}


@router.post(
    "/v1/encounters",
    status_code=202,
    responses={409: problem_response("The external id or Idempotency-Key came with other content")},  # noqa: E501
)
async def push_encounter(
    document: EncounterDocument,
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(pattern=r"^[!-~]{1,200}$")] = None,
) -> EncounterView:
    def receive(session: Any) -> handlers.Received:
        return handlers.receive_encounter(session, settings, hospital, document, idempotency_key)

    try:
        try:
            received = await rt.db.run(receive)
        except IntegrityError:  # The same encounter raced in twice: the second replays.
            received = await rt.db.run(receive)
    except handlers.EncounterConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    if received.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/encounters/{received.encounter.id}"
    return EncounterView.of(received.encounter)


@router.get("/v1/encounters/{encounter_id}")
async def get_encounter(
    encounter_id: IdPath,
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
) -> EncounterView:
    rows = await rt.db.run(
        lambda s: handlers.read_encounters(s, settings, hospital, route, encounter_id=encounter_id)
    )
    if not rows:
        raise HTTPException(404, f"no encounter {encounter_id} for this hospital")
    return (await with_claims(rt, rows))[0]


@router.get("/v1/encounters")
async def list_encounters(
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,30}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EncounterView]:
    rows = await rt.db.run(
        lambda s: handlers.read_encounters(s, settings, hospital, route, status=status, limit=limit)
    )
    return await with_claims(rt, rows)


async def with_claims(rt: RuntimeDep, rows: list[Encounter]) -> list[EncounterView]:
    """The encounters' views with their claim versions."""
    keys = [r.encounter_key for r in rows]
    chains = await rt.db.run(lambda s: ClaimChain(s).versions(keys))
    return [EncounterView.of(r, chains.get(r.encounter_key, [])) for r in rows]


@router.get("/v1/queries")
async def list_queries(
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
    status: Literal["open", "answered", "withdrawn", "cancelled"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Physician queries on your encounters, oldest first (open ones by default); each read
    is recorded."""
    rows = await rt.db.run(
        lambda s: physician_queries.read_queries(s, settings, hospital, route, status, limit)
    )
    return [physician_queries.query_view(r) for r in rows]


@router.get("/v1/queries/{query_id}")
async def get_query(
    query_id: IdPath,
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
) -> dict[str, Any]:
    row = await rt.db.run(
        lambda s: physician_queries.read_query(s, settings, hospital, route, query_id)
    )
    if row is None:
        raise HTTPException(404, f"no query {query_id} for this hospital")
    return physician_queries.query_view(row)


@router.post(
    "/v1/queries/{query_id}/answer",
    response_model=None,
    responses={409: problem_response("The query was answered, withdrawn or cancelled")},
)
async def answer_query(
    query_id: IdPath,
    body: AnswerIn,
    hospital: CurrentHospital,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
) -> dict[str, Any] | JSONResponse:
    """Answer as the physician (NPI): the answer becomes an addendum on the chart and the
    coder gets the task back."""
    answer = PhysicianAnswer(choice=body.choice, text=body.text)
    try:
        row = await rt.db.run(
            lambda s: physician_queries.answer_query(
                s, settings, hospital, query_id, body.answered_by_npi, answer, route
            )
        )
    except physician_queries.QueryNotFound as exc:
        raise HTTPException(404, f"no query {query_id} for this hospital") from exc
    except physician_queries.QueryClosed as exc:
        raise HTTPException(409, str(exc)) from exc
    except physician_queries.AnswerDoesNotFit as exc:
        errors = [{"field": f, "message": m} for f, m in exc.problems]
        return problem(422, "Answer does not fit the query", str(exc), errors=errors)
    return physician_queries.query_view(row)
