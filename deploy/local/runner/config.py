"""Which components there are, where their files live and which ports they use."""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .report import StackError

#: deploy/local: the Kafka pom, properties template and Log4j configuration are in kafka/.
LOCAL = Path(__file__).resolve().parents[1]
REPO = LOCAL.parents[1]

SERVICES: tuple[str, ...] = ("intake", "assignment", "coding", "claims")
INFRA: tuple[str, ...] = ("kafka", "temporal", "postgres")
#: The HTTP payer simulator (`python -m services.claims.payer_sim serve`): the demo's payer.
PAYER_SIM = "payer-sim"
COMPONENTS: tuple[str, ...] = INFRA + SERVICES + (PAYER_SIM,)

PG_ROLE = "chartflow"

DEFAULT_PORTS: Mapping[str, int] = MappingProxyType(
    {
        "KAFKA_PORT": 9092,
        "KAFKA_CONTROLLER_PORT": 9093,
        "TEMPORAL_PORT": 7233,
        "TEMPORAL_UI_PORT": 8233,
        "PG_PORT": 55432,
        "INTAKE_PORT": 8001,
        "ASSIGNMENT_PORT": 8002,
        "CODING_PORT": 8003,
        "CLAIMS_PORT": 8004,
        "HL7_PORT": 2575,  # intake's HL7 v2 MLLP listener (HL7's registered port)
    }
)
PAYER_SIM_PORT = "PAYER_SIM_PORT"  # unset: the claims port + 1 (8005)
#: Replica N (2, 3, ...) of a service listens on its base ports + (N - 1) * this: coding-2 on
#: 8103, intake-2 on 8101 and HL7 2675. Base ports differ in their last two digits, so no
#: instance of one service meets another's, nor the payer simulator (claims + 1).
REPLICA_PORT_STEP = 100
MAX_REPLICAS = 9
#: The replica counts `up --replicas` asked for last, kept for the next `up` (var/run).
REPLICAS_FILE = "replicas.json"
DEFAULT_TIMEOUT = 60.0
DEFAULT_KAFKA_HEAP = "-Xmx512m -Xms256m"


def instance_name(service: str, number: int) -> str:
    """`coding` for the first instance (its pid file and log keep their names), `coding-2`..."""
    return service if number == 1 else f"{service}-{number}"


def parse_instance(name: str) -> tuple[str, int] | None:
    """(service, number) of an instance name (`coding` is 1, `coding-2` is 2); None if not one."""
    service, _, number = name.rpartition("-")
    if service in SERVICES and number.isdigit() and 1 <= int(number) <= MAX_REPLICAS:
        return service, int(number)  # `coding-1` names the first instance alone
    return (name, 1) if name in SERVICES else None


def canonical(name: str) -> str:
    """An instance's own name (`coding-1` is `coding`); other names as they are."""
    instance = parse_instance(name)
    return instance_name(*instance) if instance is not None else name


def _port(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return DEFAULT_PORTS[name]
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError("config", f"{name} must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


def _payer_sim_port(env: Mapping[str, str]) -> int:
    if env.get(PAYER_SIM_PORT, "").strip():
        return _port(env, PAYER_SIM_PORT)
    return _port(env, "CLAIMS_PORT") + 1


class _VarPath:
    """A path under the config's var/ directory, read as an attribute."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, cfg: Config, owner: type[Config] | None = None) -> Path:
        return cfg.var.joinpath(*self.parts)


@dataclasses.dataclass(frozen=True)
class Config:
    """Where things live and which ports they use; built from the environment."""

    repo: Path
    var: Path
    kafka_port: int
    kafka_controller_port: int
    temporal_port: int
    temporal_ui_port: int
    pg_port: int
    service_ports: Mapping[str, int]
    hl7_port: int
    payer_sim_port: int
    timeout: float
    kafka_heap: str
    python: Path
    temporal_bin: Path
    services_package: str = "services"
    # Services use PostgreSQL only when it is brought up with them (`up --postgres --services`);
    # otherwise SQLite, the embedded default.
    services_on_postgres: bool = False
    # KAFKA_TLS=1: the broker listener is SASL_SSL with a self-signed certificate.
    kafka_tls: bool = False

    run_dir = _VarPath("run")
    log_dir = _VarPath("log")
    kafka_dir = _VarPath("kafka")
    kafka_libs = _VarPath("kafka", "libs")
    kafka_data = _VarPath("kafka", "data")
    kafka_properties = _VarPath("kafka", "server.properties")
    kafka_credentials = _VarPath("kafka", "credentials")
    temporal_db = _VarPath("temporal", "temporal.db")
    pg_dir = _VarPath("postgres")
    pg_data = _VarPath("postgres", "data")
    pg_socket_dir = _VarPath("postgres", "run")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, repo: Path = REPO) -> Config:
        env = os.environ if env is None else env
        timeout_raw = env.get("STACK_TIMEOUT", "").strip()
        try:
            timeout = float(timeout_raw) if timeout_raw else DEFAULT_TIMEOUT
        except ValueError:
            raise StackError(
                "config", f"STACK_TIMEOUT must be a number of seconds, got {timeout_raw!r}"
            ) from None
        cfg = cls(
            repo=repo,
            var=repo / "var",
            kafka_port=_port(env, "KAFKA_PORT"),
            kafka_controller_port=_port(env, "KAFKA_CONTROLLER_PORT"),
            temporal_port=_port(env, "TEMPORAL_PORT"),
            temporal_ui_port=_port(env, "TEMPORAL_UI_PORT"),
            pg_port=_port(env, "PG_PORT"),
            service_ports=MappingProxyType({s: _port(env, f"{s.upper()}_PORT") for s in SERVICES}),
            hl7_port=_port(env, "HL7_PORT"),
            payer_sim_port=_payer_sim_port(env),
            timeout=timeout,
            kafka_heap=env.get("KAFKA_HEAP_OPTS", "").strip() or DEFAULT_KAFKA_HEAP,
            python=repo / ".venv" / "bin" / "python",
            temporal_bin=repo / ".venv" / "bin" / "temporal",
            services_package=env.get("STACK_SERVICES_PACKAGE", "").strip() or "services",
            kafka_tls=env.get("KAFKA_TLS", "").strip().lower() in ("1", "true", "yes"),
        )
        used: dict[int, str] = {}
        for name in COMPONENTS:
            for port in cfg.ports(name):
                if port in used:
                    raise StackError(
                        "config", f"port {port} is configured for both {used[port]} and {name}"
                    )
                used[port] = name
        return cfg

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def kafka_protocol(self) -> str:
        """The broker listener's security protocol, as clients name it."""
        return "SASL_SSL" if self.kafka_tls else "SASL_PLAINTEXT"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://{PG_ROLE}@127.0.0.1:{self.pg_port}/chartflow"

    def instance_port(self, name: str) -> int:
        """The HTTP port of a service instance (`coding`, `coding-2`, ...)."""
        service, number = parse_instance(name) or (name, 1)
        return self.service_ports[service] + (number - 1) * REPLICA_PORT_STEP

    def ports(self, name: str) -> tuple[int, ...]:
        if (instance := parse_instance(name)) is not None and instance[1] > 1:
            service, number = instance
            step = (number - 1) * REPLICA_PORT_STEP
            extra = (self.hl7_port + step,) if service == "intake" else ()
            return (self.service_ports[service] + step, *extra)
        if name == "kafka":
            return (self.kafka_port, self.kafka_controller_port)
        if name == "temporal":
            return (self.temporal_port, self.temporal_ui_port)
        if name == "postgres":
            return (self.pg_port,)
        if name == "intake":
            return (self.service_ports[name], self.hl7_port)
        if name == PAYER_SIM:
            return (self.payer_sim_port,)
        return (self.service_ports[name],)

    def rel(self, path: Path) -> str:
        """A path as shown to people: relative to the repository when inside it."""
        try:
            return str(path.relative_to(self.repo))
        except ValueError:
            return str(path)

    def wants_postgres_from_env(self, env: Mapping[str, str]) -> bool:
        """True when DATABASE_URL points at PostgreSQL on our host and port."""
        url = env.get("DATABASE_URL", "")
        if not url.startswith("postgresql"):
            return False
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        return parts.hostname in ("127.0.0.1", "localhost") and port == self.pg_port
