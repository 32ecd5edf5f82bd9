"""Assignment's HTTP API (ops and admins): vendor pools and the coding status of an encounter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.assignment import SERVICE
from services.assignment.db import TABLES, VendorPool
from services.assignment.domain.models import CodingStatus
from services.assignment.handlers import AssignmentHandlers
from services.assignment.worker import build_worker
from services.assignment.workflows import EncounterCoding, workflow_id
from shared.events import topics
from shared.http import RuntimeDep, require_admin, service_app
from shared.kafka import Publisher
from shared.service import Runtime
from shared.settings import ChartflowSettings
from shared.temporal import connect


class PoolIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    vendor_id: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    name: str = Field(min_length=1, max_length=100)
    credentials: list[str] = Field(min_length=1)
    encounter_classes: list[str] = Field(min_length=1)
    hospitals: list[str] = []
    capacity: int = Field(default=100, ge=1)
    sla_seconds: int = Field(default=86_400, ge=1)


def temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def create_app(settings: ChartflowSettings, roles: frozenset[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(settings, TABLES)
        client = await connect(settings)
        app.state.runtime, app.state.temporal = rt, client
        handlers = AssignmentHandlers(rt.db, client, settings)
        if "consumer" in roles:
            rt.start_consumer(topics.ENCOUNTERS_RECEIVED, handlers.on_encounter_received)
            rt.start_consumer(topics.CODING_EVENTS, handlers.on_coding_submitted)
        if "worker" in roles:
            rt.loops.start("worker", lambda: run_worker(rt, client))
        yield
        await rt.stop()

    async def run_worker(rt: Runtime, client: Client) -> None:
        publisher = Publisher(settings.kafka_bootstrap_servers)
        try:
            await publisher.start()
            await build_worker(client, rt.db, publisher, settings).run()
        finally:
            await publisher.stop()

    app = service_app(SERVICE, lifespan)
    admin = require_admin(settings.admin_token)

    @app.put("/v1/admin/pools/{pool_id}", dependencies=[admin])
    async def put_pool(pool_id: str, body: PoolIn, rt: RuntimeDep) -> PoolIn:
        if pool_id != body.id:
            raise HTTPException(422, "id in the path and the body differ")
        row = VendorPool(
            id=body.id,
            vendor_id=body.vendor_id,
            name=body.name,
            credentials=",".join(body.credentials),
            encounter_classes=",".join(body.encounter_classes),
            hospitals=",".join(body.hospitals),
            capacity=body.capacity,
            sla_seconds=body.sla_seconds,
        )
        await rt.db.run(lambda s: s.merge(row))
        return body

    @app.get("/v1/coding-status/{encounter_key}", dependencies=[admin])
    async def coding_status(
        encounter_key: str,
        client: Annotated[Client, Depends(temporal_client)],
    ) -> CodingStatus:
        handle = client.get_workflow_handle(
            workflow_id(encounter_key, settings.chartflow_namespace_prefix)
        )
        try:
            return await handle.query(EncounterCoding.status)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise HTTPException(404, f"no coding workflow for {encounter_key}") from exc
            raise HTTPException(503, f"workflow status unavailable: {exc.status.name}") from exc

    return app
