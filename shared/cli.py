"""`python -m services.<name> run|api|consumer|worker|rekey`: one entry point for every service."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI
from sqlmodel import SQLModel

from shared.crypto import PhiKeyError, use_keyring
from shared.kafka_security import KafkaCredentialsError, kafka_auth
from shared.logging import configure_logging
from shared.rekey import rekey_database
from shared.secrets import SecretError, resolve_admin_token
from shared.settings import ChartflowSettings
from shared.tracing import configure_tracing

ROLES = ("run", "api", "consumer", "worker", "rekey")


def serve(
    settings: ChartflowSettings,
    make_app: Callable[[ChartflowSettings, frozenset[str]], FastAPI],
    argv: list[str],
    tables: Sequence[type[SQLModel]] = (),
) -> int:
    """`run` starts every role in one process; `api`, `consumer` and `worker` start one each;
    `rekey` re-encrypts the service's stored PHI under the newest keys and exits."""
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
    configure_tracing(settings.service_name, settings.tracing_exporter)
    try:  # Weak or missing secrets stop the service here, with one clear line.
        resolve_admin_token(settings.admin_token, settings.chartflow_var)
        settings.phi_keyring()
    except (SecretError, PhiKeyError) as exc:
        print(f"{settings.service_name}: refusing to start: {exc}", file=sys.stderr)
        return 2
    if role == "rekey":
        use_keyring(settings.phi_keyring())
        rekey_database(settings, tables, report=lambda line: print(line, flush=True))
        return 0
    app = make_app(settings, roles)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def main_for(
    settings_factory: Callable[[], ChartflowSettings],
    make_app: Callable[[ChartflowSettings, frozenset[str]], FastAPI],
    tables: Sequence[type[SQLModel]] = (),
) -> None:
    sys.exit(serve(settings_factory(), make_app, sys.argv[1:], tables))
