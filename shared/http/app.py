"""The app factory every service uses: shared conventions, health routes and `/metrics`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlmodel import Session

from shared import tracing
from shared.http.context import RequestConventions
from shared.http.errors import install_error_handlers
from shared.http.limits import BodySizeLimit
from shared.http.openapi import document_problems
from shared.metrics import (
    CONSUMER_LAG,
    CONSUMER_PARTITION_LAG,
    CONSUMER_STUCK_SECONDS,
    OUTBOX_OLDEST_SECONDS,
    OUTBOX_PENDING,
)
from shared.outbox import oldest_pending_seconds, pending_count
from shared.secrets import resolve_admin_token
from shared.service import Runtime
from shared.settings import ChartflowSettings


def runtime(request: Request) -> Runtime:
    """The service's runtime (database, loops), set up by the app's lifespan."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def settings(request: Request) -> ChartflowSettings:
    """The service's settings, as given to `service_app`."""
    value: ChartflowSettings = request.app.state.settings
    return value


SettingsDep = Annotated[ChartflowSettings, Depends(settings)]


class Health(BaseModel):
    status: str
    service: str


class ConsumerReadiness(BaseModel):
    topic: str
    lag: int
    stuck_seconds: float
    retrying: bool
    dependencies_down: bool


class Readiness(BaseModel):
    status: str  # ready | not_ready
    service: str
    reasons: list[str]
    consumers: list[ConsumerReadiness]


def install_http_conventions(app: FastAPI, body_limits: Mapping[str, int] | None = None) -> None:
    app.add_middleware(BodySizeLimit, larger=body_limits)
    app.add_middleware(RequestConventions)  # outermost: sees every answer, 500s included
    install_error_handlers(app)
    document_problems(app)


def readiness(service: str, rt: Runtime, settings: ChartflowSettings) -> Readiness:
    """Not ready while a consumer holds one message too long or lags too far behind."""
    consumers, reasons = [], []
    for status in rt.consumer_statuses():
        consumers.append(
            ConsumerReadiness(
                topic=status.topic,
                lag=status.lag,
                stuck_seconds=round(status.stuck_seconds, 1),
                retrying=status.retrying,
                dependencies_down=status.dependencies_down,
            )
        )
        if status.stuck_seconds > settings.ready_stuck_seconds:
            reasons.append(f"{status.topic}: one message in hand for {status.stuck_seconds:.0f}s")
        if status.lag > settings.ready_max_consumer_lag:
            reasons.append(f"{status.topic}: {status.lag} messages behind")
    return Readiness(
        status="not_ready" if reasons else "ready",
        service=service,
        reasons=reasons,
        consumers=consumers,
    )


def _scrape(rt: Runtime, session: Session) -> None:
    """The gauges read from the database when `/metrics` is scraped."""
    OUTBOX_PENDING.set(pending_count(session))
    OUTBOX_OLDEST_SECONDS.set(oldest_pending_seconds(session))
    for hook in rt.scrape_hooks:
        hook(session)


def _record_consumers(rt: Runtime) -> None:
    for gauge in (CONSUMER_LAG, CONSUMER_STUCK_SECONDS, CONSUMER_PARTITION_LAG):
        gauge.clear()  # a revoked partition or a stopped consumer leaves no stale figure
    for status in rt.consumer_statuses():
        CONSUMER_LAG.labels(topic=status.topic, group=status.group).set(status.lag)
        CONSUMER_STUCK_SECONDS.labels(topic=status.topic, group=status.group).set(
            status.stuck_seconds
        )
        for partition, lag in status.partition_lags:
            CONSUMER_PARTITION_LAG.labels(
                topic=status.topic, partition=str(partition), group=status.group
            ).set(lag)


def service_app(
    service: str,
    settings: ChartflowSettings,
    lifespan: Any,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """A service's FastAPI app with the shared conventions and its health routes.

    `body_limits` maps path prefixes to body size limits larger than the default.
    """
    app = FastAPI(title=f"Chartflow {service}", version="0.1.0", lifespan=lifespan)
    token = resolve_admin_token(settings.admin_token, settings.chartflow_var)
    app.state.settings = settings.model_copy(update={"admin_token": token})
    install_http_conventions(app, body_limits)

    @app.get("/health")
    async def health() -> Health:
        """Liveness: the process answers (no dependency is asked)."""
        return Health(status="ok", service=service)

    @app.get(
        "/health/ready",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready"}},
    )
    async def ready(rt: RuntimeDep) -> JSONResponse:
        """Readiness: 503 while a consumer is stuck on one message or lags beyond the limit."""
        answer = readiness(service, rt, settings)
        code = 200 if answer.status == "ready" else 503
        return JSONResponse(answer.model_dump(), status_code=code)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(rt: RuntimeDep) -> Response:
        """Prometheus text; public like `/health`: no label holds PHI (docs/observability.md)."""
        await rt.db.run(lambda session: _scrape(rt, session))
        _record_consumers(rt)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    tracing.instrument_app(app)  # server spans, when tracing is on

    return app
