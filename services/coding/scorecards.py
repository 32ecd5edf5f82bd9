"""Scorecards in coding: the coded work of a period, summed per coder, pool, vendor or hospital
for whoever may see it, and each hospital's vendor figures published to intake."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlmodel import Session

from services.coding import SERVICE
from services.coding.audit_db import AuditRepository
from services.coding.db import Audit, Coder, CodingTask
from services.coding.domain.scorecards import (
    AuditFigures,
    CodedEncounter,
    GroupBy,
    Scorecard,
    scorecards,
)
from services.coding.handlers import now
from shared.db import Database
from shared.events import topics
from shared.events.coding import HospitalScorecardPublished, ScorecardFigures
from shared.events.envelope import Envelope
from shared.outbox import add_to_outbox
from shared.settings import ChartflowSettings

log = structlog.get_logger()
#: How often the hospitals' changed figures go to intake.
PUBLISH_EVERY_SECONDS = 2.0


class NotYours(Exception):
    """The viewer asked for figures outside what their role may see."""


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a YYYY-MM period, in UTC."""
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def coded_encounters(session: Session, period: str, **filters: str | None) -> list[CodedEncounter]:
    since, until = period_bounds(period)
    repo = AuditRepository(session)
    tasks = repo.coded_tasks(since, until, **filters)
    ids = [t.id for t in tasks]
    audits, queries, denials = repo.of_tasks(ids), repo.query_counts(ids), repo.denials(ids)
    return [
        _coded(task, audits.get(task.id), queries.get(task.id, 0), denials.get(task.id, 0))
        for task in tasks
    ]


def _coded(task: CodingTask, audit: Audit | None, queries: int, denials: int) -> CodedEncounter:
    finished = task.submitted_at or task.created_at
    return CodedEncounter(
        coder_id=task.coder_id or "",
        pool_id=task.pool_id,
        vendor_id=task.vendor_id,
        hospital_id=task.hospital_id,
        turnaround_seconds=(finished - task.created_at).total_seconds(),
        queries=queries,
        audit=_figures(audit) if audit else None,
        coding_denials=denials,
    )


def _figures(audit: Audit) -> AuditFigures:
    return AuditFigures(
        diagnoses_matched=audit.diagnoses_matched or 0,
        diagnoses_errors=audit.diagnoses_errors or 0.0,
        procedures_matched=audit.procedures_matched or 0,
        procedures_errors=audit.procedures_errors or 0.0,
        record_accurate=bool(audit.record_accurate),
        kinds=json.loads(audit.kinds or "{}"),
    )


def visible_filters(viewer: Coder | None, asked: dict[str, str | None]) -> dict[str, str | None]:
    """The filters a viewer's figures are read with: a coder only their own work, a vendor
    manager only their vendor's, an admin (None) what they ask for."""
    if viewer is None:
        return asked
    own = "coder_id" if viewer.role == "coder" else "vendor_id"
    mine = viewer.id if viewer.role == "coder" else viewer.vendor_id
    if asked.get(own) not in (None, mine):
        raise NotYours(f"{own} {asked[own]} is not yours to read")
    # A manager naming another vendor's coder or pool gets nothing: the vendor narrows it.
    return {**asked, own: mine}


def read_scorecards(
    session: Session,
    viewer: Coder | None,
    by: GroupBy,
    period: str,
    asked: dict[str, str | None],
) -> list[dict[str, Any]]:
    encounters = coded_encounters(session, period, **visible_filters(viewer, asked))
    return [figures(card) for card in scorecards(encounters, by)]


def figures(card: Scorecard) -> dict[str, Any]:
    return ScorecardFigures(**asdict(card)).model_dump()


def publish_marked(session: Session, settings: ChartflowSettings) -> int:
    """Each marked hospital month's vendor figures, as they stand, to intake (outbox); the
    marks read are cleared, so a change committed meanwhile is published next round."""
    repo = AuditRepository(session)
    marks = repo.marks()
    for hospital_id, period in sorted({(m.hospital_id, m.period) for m in marks}):
        cards = scorecards(coded_encounters(session, period, hospital_id=hospital_id), "vendor")
        published = HospitalScorecardPublished(
            hospital_id=hospital_id,
            period=period,
            as_of=now(),
            vendors=[ScorecardFigures(**asdict(card)) for card in cards],
        )
        envelope = Envelope.wrap(published, source=SERVICE, subject=hospital_id, tenant=hospital_id)
        add_to_outbox(session, settings.topic(topics.CODING_SCORECARDS), envelope)
    repo.unmark(marks)
    return len(marks)


async def publish_scorecards_forever(db: Database, settings: ChartflowSettings) -> None:
    while True:
        if published := await db.run(lambda s: publish_marked(s, settings)):
            log.info("scorecards.published", changes=published)
        await asyncio.sleep(PUBLISH_EVERY_SECONDS)
