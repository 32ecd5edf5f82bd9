"""The four Chartflow services (`python -m services.NAME run`) and the HTTP payer simulator
(`python -m services.claims.payer_sim serve`), healthy on GET /health."""

from __future__ import annotations

import os

from .config import PAYER_SIM, Config, parse_instance
from .kafka import kafka_client_env
from .net import check_ports_free, http_ok
from .process import running_pid, spawn
from .report import StackError


def _service(name: str) -> str:
    instance = parse_instance(name)
    if instance is None:
        raise StackError(name, "not a service instance")
    return instance[0]


def service_env(cfg: Config, name: str, postgres: bool) -> dict[str, str]:
    """The environment of a service instance (`coding`, `coding-2`): its own ports, the
    service's Kafka principal and database (every instance shares them)."""
    env = dict(os.environ)
    # Each service is its own Kafka principal, whatever the caller's shell says.
    for inherited in ("KAFKA_USERNAME", "KAFKA_PASSWORD", "KAFKA_SSL_CAFILE"):
        env.pop(inherited, None)
    ports = cfg.ports(name)
    name = _service(name)
    port = str(ports[0])
    env.update(
        {
            f"{name.upper()}_PORT": port,
            "PORT": port,
            "KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
            **kafka_client_env(cfg, name),
            "TEMPORAL_ADDRESS": cfg.temporal_address,
            "CHARTFLOW_VAR": str(cfg.var),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if name == "intake":
        env["HL7_PORT"] = str(ports[1])
    if postgres and not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = cfg.database_url
    return env


def start_service(cfg: Config, name: str) -> int:
    if not cfg.python.exists():
        raise StackError(name, f"no {cfg.rel(cfg.python)}; create the venv from requirements.txt")
    service = _service(name)
    if cfg.services_package == "services":
        main = cfg.repo / "services" / service / "__main__.py"
        if not main.exists():
            raise StackError(name, f"{cfg.rel(main)} does not exist; nothing to run")
    check_ports_free(cfg, name)
    postgres = cfg.services_on_postgres and running_pid(cfg, "postgres") is not None
    argv = [str(cfg.python), "-m", f"{cfg.services_package}.{service}", "run"]
    return spawn(cfg, name, argv, env=service_env(cfg, name, postgres))


def service_healthy(cfg: Config, name: str) -> bool:
    return http_ok(f"http://127.0.0.1:{cfg.instance_port(name)}/health")


def start_payer_sim(cfg: Config) -> int:
    check_ports_free(cfg, PAYER_SIM)
    module = "services.claims.payer_sim"
    argv = [str(cfg.python), "-m", module, "serve", "--port", str(cfg.payer_sim_port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return spawn(cfg, PAYER_SIM, argv, env=env)


def payer_sim_healthy(cfg: Config) -> bool:
    return http_ok(f"http://127.0.0.1:{cfg.payer_sim_port}/health")
