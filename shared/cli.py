"""`python -m services.<name> run|api|worker`: one entry point shape for every service."""

from __future__ import annotations

import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from shared.kafka_security import KafkaCredentialsError, kafka_auth
from shared.logging import configure_logging
from shared.settings import ChartflowSettings

ROLES = ("run", "api", "consumer", "worker")


def serve(
    settings: ChartflowSettings,
    make_app: Callable[[ChartflowSettings, frozenset[str]], FastAPI],
    argv: list[str],
) -> int:
    """`run` starts every role in one process; `api`, `consumer` and `worker` start one each."""
    role = argv[0] if argv else "run"
    if role not in ROLES:
        print(f"usage: python -m services.{settings.service_name} {{{'|'.join(ROLES)}}}")
        return 2
    roles = frozenset({"api", "consumer", "worker"} if role == "run" else {role})
    if roles & {"consumer", "worker"}:
        try:
            kafka_auth(settings)  # refuse to start as nobody
        except KafkaCredentialsError as exc:
            print(f"{settings.service_name}: {exc}", file=sys.stderr)
            return 2
    configure_logging(settings.service_name, settings.log_json)
    app = make_app(settings, roles)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def main_for(
    settings_factory: Callable[[], ChartflowSettings],
    make_app: Callable[[ChartflowSettings, frozenset[str]], FastAPI],
) -> None:
    sys.exit(serve(settings_factory(), make_app, sys.argv[1:]))
