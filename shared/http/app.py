"""The app factory every service uses: shared conventions, `/health` and `/metrics`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse

from shared.http.errors import install_error_handlers
from shared.http.limits import BodySizeLimit
from shared.metrics import HTTP_REQUESTS, render
from shared.outbox import pending_count
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


def install_http_conventions(app: FastAPI, body_limits: Mapping[str, int] | None = None) -> None:
    app.add_middleware(BodySizeLimit, larger=body_limits)
    install_error_handlers(app)


def service_app(
    service: str,
    settings: ChartflowSettings,
    lifespan: Any,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """A service's FastAPI app with the shared conventions and a `/health` route.

    `body_limits` maps path prefixes to body size limits larger than the default.
    """
    app = FastAPI(title=f"Chartflow {service}", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    install_http_conventions(app, body_limits)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")  # the template, not ids
        HTTP_REQUESTS.inc(method=request.method, route=route, status=str(response.status_code))
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics(rt: RuntimeDep) -> PlainTextResponse:
        pending = await rt.db.run(pending_count)
        gauges = {"chartflow_outbox_pending": ("Outbox events not yet published.", lambda: pending)}
        return PlainTextResponse(render(gauges), media_type="text/plain; version=0.0.4")

    return app
