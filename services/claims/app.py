"""Claims' app: the database, outbox relay, coded-encounter consumer and payer submission loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from services.claims import SERVICE
from services.claims.api import router
from services.claims.db import TABLES
from services.claims.handlers import ClaimsHandlers
from services.claims.payers import PayerLedger, payer_adapter
from services.claims.settings import ClaimsSettings
from services.claims.submission import ClaimSubmitter
from shared.events import topics
from shared.http import service_app
from shared.service import Runtime
from shared.settings import ChartflowSettings


def create_app(settings: ChartflowSettings, roles: frozenset[str]) -> FastAPI:
    # main_for gives ClaimsSettings; read them again when called with the shared base
    claims = settings if isinstance(settings, ClaimsSettings) else ClaimsSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.create(settings, TABLES)
        app.state.runtime = rt
        if "consumer" in roles:
            rt.start_outbox_relay()
            handlers = ClaimsHandlers(rt.db, settings)
            rt.start_consumer(topics.ENCOUNTERS_CODED, handlers.on_encounter_coded)
        if "worker" in roles:
            ledger = PayerLedger(claims.payer_sim_ledger) if claims.payer_sim_ledger else None
            submitter = ClaimSubmitter(rt.db, claims, partial(payer_adapter, ledger=ledger))
            rt.loops.start("payer-submission", submitter.run_forever)
        yield
        await rt.stop()

    app = service_app(SERVICE, settings, lifespan)
    app.include_router(router)
    return app
