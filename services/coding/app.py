"""Coding's app: the database, code sets, outbox relay and task consumer, wired to the routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlmodel import Session

from services.coding import SERVICE, audits, handlers, physician_queries, scorecards
from services.coding.api import router
from services.coding.audit_api import router as audit_router
from services.coding.db import TABLES
from services.coding.denials_api import router as denials_router
from services.coding.domain import use_codeset_dir
from shared.events import topics
from shared.events.assignment import AuditTaskCreated
from shared.events.envelope import Envelope
from shared.http import service_app
from shared.service import Runtime
from shared.settings import ChartflowSettings


def create_app(settings: ChartflowSettings, roles: frozenset[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(settings, TABLES)
        app.state.runtime = rt
        use_codeset_dir(settings.chartflow_var / "codesets")
        # Load the code sets (~2 s) now rather than on a coder's first submission.
        warming = asyncio.get_running_loop().run_in_executor(None, handlers.warm_code_sets)
        if "consumer" in roles:
            rt.start_outbox_relay()
            rt.start_consumer(topics.CODING_TASKS, rt.transactional(take_work))
            rt.start_consumer(topics.QUERY_ANSWERS, rt.transactional(physician_queries.take_answer))
            rt.loops.start(
                "scorecards", lambda: scorecards.publish_scorecards_forever(rt.db, settings)
            )
        yield
        await warming
        await rt.stop()

    app = service_app(SERVICE, settings, lifespan)
    app.include_router(router)
    app.include_router(audit_router)
    app.include_router(denials_router)
    return app


def take_work(session: Session, envelope: Envelope) -> None:
    """`coding.tasks`: a coding task for a coder, or an audit for an auditor."""
    if envelope.type == AuditTaskCreated.event_type:
        audits.take_audit(session, envelope)
    else:
        handlers.take_task(session, envelope)
