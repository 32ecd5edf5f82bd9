"""Assignment's app: the database, Temporal client and worker, and its consumers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from services.assignment import SERVICE
from services.assignment.api import router
from services.assignment.audit_api import router as audit_router
from services.assignment.backlog import Backlog
from services.assignment.backlog_api import router as backlog_router
from services.assignment.db import TABLES
from services.assignment.handlers import AssignmentHandlers
from services.assignment.ops import EncounterOps
from services.assignment.ops_api import router as ops_router
from services.assignment.ops_dashboard import OpsDashboard
from services.assignment.queue_depth import record_queue_depth
from services.assignment.settings import AssignmentSettings
from services.assignment.worker import build_worker
from shared.events import topics
from shared.http import service_app
from shared.kafka import Publisher
from shared.kafka_security import kafka_auth
from shared.service import Runtime
from shared.settings import ChartflowSettings
from shared.temporal import connect

CONSUMER_IN_FLIGHT = 16  # events of distinct encounters handled at once per partition


def create_app(settings: ChartflowSettings, roles: frozenset[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(settings, TABLES)
        rt.scrape_hooks.append(record_queue_depth)  # queue depth per pool on /metrics
        client = await connect(settings)
        app.state.runtime, app.state.temporal = rt, client
        app.state.ops = EncounterOps(rt.db, client, settings)
        # One dispatcher per process: the worker's activities and the pools API share its rounds.
        app.state.backlog = backlog = Backlog(rt.db, client, settings)
        app.state.dashboard = OpsDashboard(rt.db, client, settings)
        policy = settings.query_policy() if isinstance(settings, AssignmentSettings) else None
        handlers = AssignmentHandlers(rt.db, client, settings, policy)
        if "consumer" in roles:
            rt.start_outbox_relay()  # e.g. the access record of a re-encryption
            # A Temporal outage pauses the consumers rather than dead-lettering good events.
            temporal_up = [client.service_client.check_health]
            for topic, handle, supersedes in (
                (topics.ENCOUNTERS_RECEIVED, handlers.on_encounter_received, None),
                (topics.CODING_EVENTS, handlers.on_coding_submitted, None),
                (topics.PHYSICIAN_QUERIES, handlers.on_physician_query, None),
                (topics.QUERY_ANSWERS, handlers.on_query_answered, None),
                (topics.CLAIMS_STATUS, handlers.on_claim_status, handlers.claim_status_passed),
            ):
                # Each event is a Temporal call for its own encounter: many at once.
                rt.start_consumer(
                    topic,
                    handle,
                    probes=temporal_up,
                    in_flight=CONSUMER_IN_FLIGHT,
                    supersedes=supersedes,
                )
        if "worker" in roles:
            rt.loops.start("worker", lambda: run_worker(rt, client, backlog))
        yield
        await rt.stop()

    async def run_worker(rt: Runtime, client: Client, backlog: Backlog) -> None:
        publisher = Publisher(settings.kafka_bootstrap_servers, **kafka_auth(settings))
        try:
            await publisher.start()
            worker = build_worker(client, rt.db, publisher, settings, backlog)
            await backlog.dispatch_all()  # what a crash left undone
            await worker.run()
        finally:
            await publisher.stop()

    app = service_app(SERVICE, settings, lifespan)
    app.include_router(router)
    app.include_router(audit_router)
    app.include_router(backlog_router)
    app.include_router(ops_router)
    return app
