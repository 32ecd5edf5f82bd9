"""Intake's app: the database, the outbox relay and its consumers, wired to the API routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.intake import (
    SERVICE,
    bulk_api,
    fhir_api,
    fhir_read_api,
    handlers,
    physician_queries,
    settings_api,
    webhooks_api,
)
from services.intake.access_api import router as access_router
from services.intake.api import router
from services.intake.background import start_background
from services.intake.db import TABLES
from services.intake.fhir_http import install_fhir_errors
from services.intake.hl7_listener import MllpListener
from services.intake.scorecard_api import router as scorecard_router
from services.intake.settings import intake_settings
from services.intake.work_queue_api import router as work_queue_router
from shared.events import topics
from shared.http import service_app
from shared.service import Runtime
from shared.settings import ChartflowSettings


def create_app(settings: ChartflowSettings, roles: frozenset[str]) -> FastAPI:
    intake = intake_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(intake, TABLES)
        app.state.runtime = rt
        hl7 = MllpListener(rt, intake.host, intake.hl7_port)
        if "api" in roles and intake.hl7_port:
            await hl7.start()
        if "consumer" in roles:
            rt.start_outbox_relay()
            rt.start_consumer(topics.ENCOUNTERS_CODED, rt.transactional(handlers.record_coded))
            rt.start_consumer(topics.CLAIMS_STATUS, rt.transactional(handlers.record_claim_status))
            rt.start_consumer(
                topics.ENCOUNTERS_RETURNED, rt.transactional(handlers.record_returned)
            )
            rt.start_consumer(topics.ACCESS_LOG, rt.transactional(handlers.store_access))
            rt.start_consumer(topics.CODING_SCORECARDS, rt.transactional(handlers.store_scorecard))
            rt.start_consumer(
                topics.PHYSICIAN_QUERIES, rt.transactional(physician_queries.record_query)
            )
            rt.start_consumer(
                topics.ASSIGNMENT_EVENTS, rt.transactional(physician_queries.record_follow_up)
            )
            start_background(rt, intake)
        yield
        await hl7.stop()
        await rt.stop()

    limits = {"/fhir/": intake.fhir_max_bytes, "/v1/bulk/": intake.bulk_max_bytes}
    app = service_app(SERVICE, intake, lifespan, body_limits=limits)
    app.include_router(router)
    app.include_router(access_router)
    app.include_router(scorecard_router)
    app.include_router(fhir_api.router)
    app.include_router(settings_api.router)
    app.include_router(bulk_api.router)
    app.include_router(fhir_read_api.router)
    app.include_router(webhooks_api.router)
    install_fhir_errors(app)
    app.include_router(work_queue_router)
    return app
