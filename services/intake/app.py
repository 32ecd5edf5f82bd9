"""Intake's app: the database, the outbox relay and its consumers, wired to the API routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.intake import SERVICE, handlers, physician_queries
from services.intake.access_api import router as access_router
from services.intake.api import router
from services.intake.db import TABLES
from services.intake.work_queue_api import router as work_queue_router
from shared.events import topics
from shared.http import service_app
from shared.service import Runtime
from shared.settings import ChartflowSettings


def create_app(settings: ChartflowSettings, roles: frozenset[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(settings, TABLES)
        app.state.runtime = rt
        if "consumer" in roles:
            rt.start_outbox_relay()
            rt.start_consumer(topics.ENCOUNTERS_CODED, rt.transactional(handlers.record_coded))
            rt.start_consumer(topics.CLAIMS_STATUS, rt.transactional(handlers.record_claim_status))
            rt.start_consumer(
                topics.ENCOUNTERS_RETURNED, rt.transactional(handlers.record_returned)
            )
            rt.start_consumer(topics.ACCESS_LOG, rt.transactional(handlers.store_access))
            rt.start_consumer(
                topics.PHYSICIAN_QUERIES, rt.transactional(physician_queries.record_query)
            )
            rt.start_consumer(
                topics.ASSIGNMENT_EVENTS, rt.transactional(physician_queries.record_follow_up)
            )
        yield
        await rt.stop()

    app = service_app(SERVICE, settings, lifespan)
    app.include_router(router)
    app.include_router(access_router)
    app.include_router(work_queue_router)
    return app
