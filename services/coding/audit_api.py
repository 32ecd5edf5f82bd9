"""Coding's audit API: the auditors' worklist, blind re-code and reconciliation; audit feedback
and scorecards for coders (their own), vendor managers (their vendor's) and admins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Security
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from services.coding import audits, handlers, scorecards
from services.coding.api import CODER_KEY, CodesIn, current_member, with_role
from services.coding.audit_db import AuditRepository
from services.coding.db import Coder
from services.coding.domain.reconciliation import DecisionsIncomplete
from shared.events.bounds import NOTE_TEXT
from shared.events.coding import ScorecardFigures
from shared.http import IdPath, RuntimeDep, SettingsDep, check_admin, problem, problem_response
from shared.http.access import RouteName
from shared.http.auth import ADMIN_BEARER

STATIC = Path(__file__).with_name("static")
router = APIRouter()
Auditor = Annotated[Coder, with_role("auditor")]
Period = Annotated[
    str | None,
    Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM (UTC); this month"),
]
Filter = Annotated[str | None, Query(pattern=r"^[a-z0-9-]{2,64}$")]
CONFLICT: dict[int | str, dict[str, Any]] = {409: problem_response("The audit is past this step")}


class RulingIn(BaseModel):
    difference_id: str = Field(pattern=r"^(dx|px)-[a-z]+-\d{1,2}-\d{1,2}$")
    decision: Literal["auditor", "coder"] = Field(
        description="Whose version the claim carries: the auditor's or the coder's"
    )
    rationale: str = Field(min_length=3, max_length=1000, pattern=NOTE_TEXT)


class ReconciliationIn(BaseModel):
    """A decision with a rationale for every difference the re-code found (none: none)."""

    decisions: list[RulingIn] = Field(default_factory=list, max_length=150)
    confirm_warnings: bool = False


class ScorecardsOut(BaseModel):
    period: str
    by: str
    scorecards: list[ScorecardFigures]


async def reader_of_figures(
    request: Request,
    rt: RuntimeDep,
    x_api_key: Annotated[str | None, Security(CODER_KEY)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(ADMIN_BEARER)] = None,
) -> Coder | None:
    """The admin (None), or a coder or vendor manager; auditors have their worklist instead."""
    if bearer is not None:
        check_admin(f"Bearer {bearer.credentials}", request.app.state.settings.admin_token)
        return None
    member = await current_member(rt, x_api_key)
    if member.role not in ("coder", "vendor_manager"):
        raise HTTPException(403, "this route is for the role(s): coder, vendor_manager, admin")
    return member


FiguresReader = Annotated[Coder | None, Depends(reader_of_figures)]


def _period(period: str | None) -> str:
    return period or handlers.period_of(handlers.now())


@router.get("/audits", include_in_schema=False)
async def auditor_workbench() -> FileResponse:
    """The auditors' page: worklist, blind re-code, reconciliation."""
    return FileResponse(STATIC / "audits.html", media_type="text/html")


@router.get("/scorecards", include_in_schema=False)
async def scorecard_page() -> FileResponse:
    """Scorecards for coders, vendor managers and admins."""
    return FileResponse(STATIC / "scorecards.html", media_type="text/html")


@router.get("/v1/audit-worklist")
async def audit_worklist(auditor: Auditor, rt: RuntimeDep) -> list[dict[str, Any]]:
    """The audits assigned to you, due first."""
    found = await rt.db.run(lambda s: AuditRepository(s).worklist(auditor.id))
    return [audits.audit_summary(a) for a in found]


@router.get("/v1/audits/{audit_id}")
async def get_audit(
    audit_id: IdPath, auditor: Auditor, rt: RuntimeDep, settings: SettingsDep, route: RouteName
) -> dict[str, Any]:
    """The chart to re-code from; the coder's codes only once your own are in."""
    try:
        return await rt.db.run(lambda s: audits.open_audit(s, settings, auditor, audit_id, route))
    except audits.AuditNotFound as exc:
        raise HTTPException(404, f"no audit {audit_id} on your worklist") from exc


@router.post("/v1/audits/{audit_id}/codes", responses=CONFLICT, response_model=None)
async def recode(
    audit_id: IdPath, body: CodesIn, auditor: Auditor, rt: RuntimeDep
) -> dict[str, Any] | JSONResponse:
    """Your blind re-code, validated as coders' codes are; answers with the reconciliation."""
    submission = handlers.Submission(body.diagnoses, body.procedures, body.confirm_warnings)
    try:
        return await rt.db.run(lambda s: audits.submit_recode(s, auditor, audit_id, submission))
    except audits.AuditNotFound as exc:
        raise HTTPException(404, f"no audit {audit_id} on your worklist") from exc
    except audits.AuditStepDone as exc:
        raise HTTPException(409, str(exc)) from exc
    except handlers.CodesRejected as exc:
        return problem(422, "Codes not accepted", _rejected(exc), findings=exc.findings)


@router.post("/v1/audits/{audit_id}/reconciliation", responses=CONFLICT, response_model=None)
async def reconcile(
    audit_id: IdPath,
    body: ReconciliationIn,
    auditor: Auditor,
    rt: RuntimeDep,
    settings: SettingsDep,
) -> dict[str, Any] | JSONResponse:
    """Decide every difference (the auditor's or the coder's version, and why): the final
    codes are validated, scored against the coder's, and released with the claim."""
    rulings = [audits.Ruling(r.difference_id, r.decision, r.rationale) for r in body.decisions]
    try:
        return await rt.db.run(
            lambda s: audits.reconcile(
                s, settings, auditor, audit_id, rulings, body.confirm_warnings
            )
        )
    except audits.AuditNotFound as exc:
        raise HTTPException(404, f"no audit {audit_id} on your worklist") from exc
    except (audits.AuditStepDone, IntegrityError) as exc:
        raise HTTPException(409, f"audit {audit_id} is not waiting for reconciliation") from exc
    except DecisionsIncomplete as exc:
        return problem(422, "Decisions incomplete", f"decisions: {exc}")
    except handlers.CodesRejected as exc:
        detail = f"the final codes: {_rejected(exc)}"
        return problem(422, "Final codes not accepted", detail, findings=exc.findings)


def _rejected(exc: handlers.CodesRejected) -> str:
    errors = [f for f in exc.findings if f["severity"] == "error"]
    if errors:
        return f"{len(errors)} error(s) block it"
    return "warnings need confirmation: resend with confirm_warnings true"


@router.get("/v1/audits")
async def audit_feedback(
    viewer: FiguresReader,
    rt: RuntimeDep,
    settings: SettingsDep,
    route: RouteName,
    coder_id: Filter = None,
    period: Period = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Completed audits with each difference, the decision and the auditor's rationale: a
    coder's own, a vendor manager's coders', anyone's for an admin. Newest first."""
    try:
        narrowed = scorecards.visible_filters(viewer, {"coder_id": coder_id, "vendor_id": None})
    except scorecards.NotYours as exc:
        raise HTTPException(403, str(exc)) from exc
    window = scorecards.period_bounds(period) if period else None

    def read(session: Any) -> list[dict[str, Any]]:
        found = AuditRepository(session).completed(
            narrowed["vendor_id"], narrowed["coder_id"], window, limit
        )
        return audits.feedback(session, settings, viewer, found, route)

    return await rt.db.run(read)


@router.get("/v1/scorecards")
async def read_scorecards(
    viewer: FiguresReader,
    rt: RuntimeDep,
    by: Literal["coder", "pool", "vendor", "hospital"] = "coder",
    period: Period = None,
    coder_id: Filter = None,
    pool_id: Filter = None,
    vendor_id: Filter = None,
    hospital_id: Filter = None,
) -> ScorecardsOut:
    """Volume, accuracy, audits, differences by kind, turnaround and query rate for a month,
    grouped `by`: a coder sees their own work, a vendor manager their vendor's, an admin all."""
    month = _period(period)
    asked = {"coder_id": coder_id, "pool_id": pool_id, "vendor_id": vendor_id,
             "hospital_id": hospital_id}  # fmt: skip
    try:
        cards = await rt.db.run(lambda s: scorecards.read_scorecards(s, viewer, by, month, asked))
    except scorecards.NotYours as exc:
        raise HTTPException(403, str(exc)) from exc
    return ScorecardsOut(period=month, by=by, scorecards=[ScorecardFigures(**c) for c in cards])
