#!/usr/bin/env python3
"""Run the Chartflow platform as local processes: Kafka, Temporal, PostgreSQL, the services.

Usage (from the repository root; standard library only, so any Python 3.11 runs it):

    python3 deploy/local/stack.py up [--postgres] [--services] [--only NAME]...
    python3 deploy/local/stack.py down [--only NAME]...
    python3 deploy/local/stack.py status
    python3 deploy/local/stack.py logs NAME [-n LINES] [-f]
    python3 deploy/local/stack.py env

Everything lives under ``var/`` at the repository root: data (var/kafka/data,
var/temporal/temporal.db, var/postgres/data), logs (var/log/NAME.log) and pid files
(var/run/NAME.pid). See deploy/local/README.md.

Importable: ``from deploy.local.stack import SEARCH_ATTRIBUTES, Config, main``.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import IO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

#: Custom search attributes of the Temporal namespace, registered when the dev server starts.
SEARCH_ATTRIBUTES: Mapping[str, str] = MappingProxyType(
    {
        "HospitalId": "Keyword",
        "VendorPool": "Keyword",
        "CodingStatus": "Keyword",
        "SlaDueAt": "Datetime",
    }
)

SERVICES: tuple[str, ...] = ("intake", "assignment", "coding", "claims")
INFRA: tuple[str, ...] = ("kafka", "temporal", "postgres")
COMPONENTS: tuple[str, ...] = INFRA + SERVICES

PG_ROLE = "chartflow"
PG_DATABASES: tuple[str, ...] = ("chartflow",) + tuple(f"chartflow_{s}" for s in SERVICES)
PG_OS_USER = "postgres"

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
    }
)
DEFAULT_TIMEOUT = 60.0
DEFAULT_KAFKA_HEAP = "-Xmx512m -Xms256m"
KAFKA_STARTED_MARKER = "Kafka Server started"


class StackError(Exception):
    """A failure to report as ``stack: COMPONENT: MESSAGE`` (plus optional detail lines)."""

    def __init__(self, component: str, message: str, detail: str = "") -> None:
        super().__init__(f"{component}: {message}" if component else message)
        self.component = component
        self.message = message
        self.detail = detail


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


def _port(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return DEFAULT_PORTS[name]
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError("config", f"{name} must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


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
    timeout: float
    kafka_heap: str
    python: Path
    temporal_bin: Path
    services_package: str = "services"
    # Services use PostgreSQL only when it is brought up with them (`up --postgres --services`);
    # otherwise SQLite, the embedded default.
    services_on_postgres: bool = False

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
            timeout=timeout,
            kafka_heap=env.get("KAFKA_HEAP_OPTS", "").strip() or DEFAULT_KAFKA_HEAP,
            python=repo / ".venv" / "bin" / "python",
            temporal_bin=repo / ".venv" / "bin" / "temporal",
            services_package=env.get("STACK_SERVICES_PACKAGE", "").strip() or "services",
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

    # paths -------------------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.var / "run"

    @property
    def log_dir(self) -> Path:
        return self.var / "log"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    @property
    def kafka_dir(self) -> Path:
        return self.var / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka_dir / "libs"

    @property
    def kafka_data(self) -> Path:
        return self.kafka_dir / "data"

    @property
    def kafka_properties(self) -> Path:
        return self.kafka_dir / "server.properties"

    @property
    def temporal_db(self) -> Path:
        return self.var / "temporal" / "temporal.db"

    @property
    def pg_dir(self) -> Path:
        return self.var / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg_dir / "data"

    @property
    def pg_socket_dir(self) -> Path:
        return self.pg_dir / "run"

    # addresses -----------------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://{PG_ROLE}@127.0.0.1:{self.pg_port}/chartflow"

    def ports(self, name: str) -> tuple[int, ...]:
        if name == "kafka":
            return (self.kafka_port, self.kafka_controller_port)
        if name == "temporal":
            return (self.temporal_port, self.temporal_ui_port)
        if name == "postgres":
            return (self.pg_port,)
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


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------

# Processes this invocation started, so that their exit status is seen (and they are reaped).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain anything, so split after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0] if fields else None


def pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (reaping it if it is our child)."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        return False
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X", "x")


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def matches(cfg: Config, name: str, argv: Sequence[str]) -> bool:
    """Whether a command line is this stack's process for the component ``name``."""
    if not argv:
        return False
    if name == "kafka":
        return "kafka.Kafka" in argv and str(cfg.kafka_properties) in argv
    if name == "temporal":
        return "start-dev" in argv and str(cfg.temporal_db) in argv
    if name == "postgres":
        return Path(argv[0]).name == "postgres" and str(cfg.pg_data) in argv
    if name in SERVICES:
        return (
            argv[0] == str(cfg.python)
            and len(argv) >= 4
            and argv[1] == "-m"
            and argv[2].rsplit(".", 1)[-1] == name
            and argv[3] == "run"
        )
    return False


def find_processes(cfg: Config, name: str) -> list[int]:
    """Every live process of this stack for ``name`` (found by command line, not pid file)."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid != me and matches(cfg, name, cmdline(pid)) and pid_alive(pid):
            found.append(pid)
    return sorted(found)


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def running_pid(cfg: Config, name: str) -> int | None:
    """The pid of the running component, from its pid file or, failing that, by search."""
    pid = _read_pid(cfg.pid_file(name))
    if pid is not None and pid_alive(pid) and matches(cfg, name, cmdline(pid)):
        return pid
    found = find_processes(cfg, name)
    if found:
        cfg.pid_file(name).write_text(f"{found[0]}\n")
        return found[0]
    return None


def _signal(pid: int, sig: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group and pid != os.getpgid(0):
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def terminate(pids: Sequence[int], grace: float, first: int = signal.SIGTERM) -> list[int]:
    """Stop processes: ``first`` signal (to the process group when they lead one), wait
    ``grace`` seconds, then SIGKILL the group. Returns the pids that were still alive at the
    SIGKILL stage."""
    leaders = {pid for pid in pids if _is_group_leader(pid)}
    for pid in pids:
        # PostgreSQL's postmaster stops its own children; only it gets the first signal.
        _signal(pid, first, group=pid in leaders and first == signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.1)
    stubborn = [p for p in pids if pid_alive(p)]
    for pid in pids:
        # Also sweeps children left in the group after the leader exited.
        _signal(pid, signal.SIGKILL, group=pid in leaders)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
    return stubborn


def _rotate(path: Path) -> None:
    if path.exists() and path.stat().st_size > 0:
        path.replace(path.with_name(path.name + ".1"))


def spawn(
    cfg: Config,
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start ``argv`` in its own session, output to var/log/NAME.log, pid in var/run."""
    log = cfg.log_file(name)
    _rotate(log)
    extra: dict[str, object] = {}
    if user is not None:
        extra = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
    with open(log, "ab") as out:
        out.write(f"### {time.strftime('%Y-%m-%dT%H:%M:%S')} {shlex.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(  # type: ignore[call-overload]
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(cwd or cfg.repo),
            env=dict(env if env is not None else os.environ),
            start_new_session=True,
            **extra,
        )
    _CHILDREN[proc.pid] = proc
    cfg.pid_file(name).write_text(f"{proc.pid}\n")
    return int(proc.pid)


def log_contains(path: Path, marker: str) -> bool:
    """Whether the log (rotated at each start, so: this run's) has a line with ``marker``."""
    needle = marker.encode()
    try:
        with open(path, "rb") as fh:
            return any(needle in line for line in fh)
    except OSError:
        return False


def log_tail(path: Path, lines: int = 20) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read()
    except OSError:
        return []
    return data.decode(errors="replace").splitlines()[-lines:]


# --------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int) -> bool:
    """True if 127.0.0.1:port can be bound (so nothing else listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> int | None:
    """The pid listening on a TCP port, from /proc/net/tcp{,6} (None if not found)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(entry.name)
    return None


def check_ports_free(cfg: Config, name: str) -> None:
    for port in cfg.ports(name):
        if port_free(port):
            continue
        owner = port_owner(port)
        who = ""
        if owner is not None:
            cmd = shlex.join(cmdline(owner))
            who = f" by pid {owner} ({cmd[:120]})"
        raise StackError(
            name,
            f"port {port} is already in use{who}; stop it or set another port "
            f"(see deploy/local/README.md)",
        )


# --------------------------------------------------------------------------------------
# Waiting for health
# --------------------------------------------------------------------------------------


def wait_healthy(
    cfg: Config,
    name: str,
    pid: int,
    check: Callable[[], bool],
    what: str,
    timeout: float | None = None,
) -> None:
    """Poll ``check`` until it passes; fail early if the process exits."""
    timeout = cfg.timeout if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while True:
        if not pid_alive(pid):
            child = _CHILDREN.get(pid)
            code = child.returncode if child is not None else None
            how = f" with code {code}" if code is not None else ""
            raise StackError(
                name,
                f"{what} exited{how} while starting; see {cfg.rel(cfg.log_file(name))}",
                "\n".join(log_tail(cfg.log_file(name))),
            )
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() >= deadline:
            raise StackError(
                name,
                f"{what} did not come up within {timeout:g}s; see {cfg.rel(cfg.log_file(name))}",
                "\n".join(log_tail(cfg.log_file(name))),
            )
        time.sleep(0.25)


def kafka_api_versions(port: int, timeout: float = 2.0) -> bool:
    """A real protocol round trip: send ApiVersions v0, expect error_code 0."""
    client_id = b"chartflow-stack"
    correlation = 7
    header = struct.pack(">hhih", 18, 0, correlation, len(client_id)) + client_id
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(header)) + header)
        raw = _recv_exact(sock, 4)
        (size,) = struct.unpack(">i", raw)
        body = _recv_exact(sock, size)
    got_correlation, error_code = struct.unpack(">ih", body[:6])
    return bool(got_correlation == correlation and error_code == 0)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _run(
    component: str,
    argv: Sequence[str],
    *,
    what: str,
    timeout: float = 120,
    user: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a helper command to completion; raise StackError with its output on failure."""
    extra: dict[str, object] = {}
    if user is not None:
        extra = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
    try:
        proc = subprocess.run(  # type: ignore[call-overload]
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            cwd=str(cwd) if cwd else None,
            env=dict(env) if env is not None else None,
            check=False,
            **extra,
        )
    except FileNotFoundError:
        raise StackError(component, f"{what}: {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise StackError(component, f"{what} took longer than {timeout:g}s") from None
    output = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-20:])
        raise StackError(component, f"{what} failed (exit {proc.returncode})", tail)
    return str(output)


# --------------------------------------------------------------------------------------
# Kafka
# --------------------------------------------------------------------------------------


def _need_tool(component: str, tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(component, f"no `{tool}` on PATH; {hint}")
    return path


def _java_major(java: str) -> int:
    out = _run("kafka", [java, "-version"], what="java -version", timeout=30)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not found:
        return 0
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def kafka_jars(cfg: Config) -> None:
    """Copy the broker's jars into var/kafka/libs with Maven, once per pom.xml version."""
    pom = HERE / "kafka" / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    stamp = cfg.kafka_libs / ".pom.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    mvn = _need_tool("kafka", "mvn", "install Maven (apt-get install -y maven)")
    staging = cfg.kafka_dir / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    say("kafka", "fetching the broker's jars with Maven (first run only)")
    _run(
        "kafka",
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ],
        what="mvn dependency:copy-dependencies",
        timeout=1200,
    )
    if not any(staging.glob("kafka_2.13-*.jar")):
        raise StackError("kafka", f"Maven copied no kafka_2.13 jar into {cfg.rel(staging)}")
    shutil.rmtree(cfg.kafka_libs, ignore_errors=True)
    staging.rename(cfg.kafka_libs)
    stamp.write_text(digest + "\n")


def render_kafka_properties(cfg: Config) -> str:
    template = (HERE / "kafka" / "server.properties").read_text()
    values = {
        "KAFKA_PORT": str(cfg.kafka_port),
        "KAFKA_CONTROLLER_PORT": str(cfg.kafka_controller_port),
        "KAFKA_DATA_DIR": str(cfg.kafka_data),
    }

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise StackError("kafka", f"server.properties: unknown placeholder @{key}@")
        return values[key]

    return re.sub(r"@([A-Z_]+)@", fill, template)


def kafka_cluster_id() -> str:
    """A Kafka Uuid as its tools print it: URL-safe base64 of 16 random bytes, unpadded."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def kafka_java_argv(cfg: Config, java: str, main: str, *args: str) -> list[str]:
    return [
        java,
        *cfg.kafka_heap.split(),
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={HERE / 'kafka' / 'log4j2.xml'}",
        "-cp",
        f"{cfg.kafka_libs}/*",
        main,
        *args,
    ]


def kafka_healthy(cfg: Config) -> bool:
    if not kafka_api_versions(cfg.kafka_port):
        return False
    return log_contains(cfg.log_file("kafka"), KAFKA_STARTED_MARKER)


def start_kafka(cfg: Config) -> int:
    java = _need_tool(
        "kafka", "java", "install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
    )
    major = _java_major(java)
    if major < 17:
        raise StackError("kafka", f"Kafka 4 needs Java 17 or newer; `java` is version {major}")
    check_ports_free(cfg, "kafka")
    kafka_jars(cfg)
    cfg.kafka_data.mkdir(parents=True, exist_ok=True)
    cfg.kafka_properties.write_text(render_kafka_properties(cfg))
    if not (cfg.kafka_data / "meta.properties").exists():
        say("kafka", f"formatting storage in {cfg.rel(cfg.kafka_data)}")
        argv = kafka_java_argv(
            cfg,
            java,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            kafka_cluster_id(),
            "--config",
            str(cfg.kafka_properties),
        )
        _run("kafka", argv, what="kafka.tools.StorageTool format", timeout=120)
    return spawn(cfg, "kafka", kafka_java_argv(cfg, java, "kafka.Kafka", str(cfg.kafka_properties)))


# --------------------------------------------------------------------------------------
# Temporal
# --------------------------------------------------------------------------------------


def temporal_argv(cfg: Config) -> list[str]:
    argv = [
        str(cfg.temporal_bin),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(cfg.temporal_port),
        "--ui-port",
        str(cfg.temporal_ui_port),
        "--db-filename",
        str(cfg.temporal_db),
        "--namespace",
        "default",
        "--log-format",
        "json",
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--dynamic-config-value",
        "history.transferProcessorMaxPollRPS=1000",
    ]
    for key, kind in SEARCH_ATTRIBUTES.items():
        argv += ["--search-attribute", f"{key}={kind}"]
    return argv


def _temporal_cli(cfg: Config, *args: str, what: str, timeout: float = 15) -> str:
    return _run(
        "temporal",
        [str(cfg.temporal_bin), *args, "--address", cfg.temporal_address],
        what=what,
        timeout=timeout,
    )


def temporal_healthy(cfg: Config) -> bool:
    if not port_open(cfg.temporal_port):
        return False
    out = _temporal_cli(cfg, "operator", "cluster", "health", what="cluster health", timeout=5)
    return "SERVING" in out


def missing_search_attributes(custom: Mapping[str, str]) -> dict[str, str]:
    """Which of SEARCH_ATTRIBUTES ``custom`` (name -> INDEXED_VALUE_TYPE_X, as the CLI's JSON
    output gives them) lacks; a name registered with another type is an error."""
    missing = {}
    for key, kind in SEARCH_ATTRIBUTES.items():
        have = custom.get(key)
        if have is None:
            missing[key] = kind
        elif have.upper().removeprefix("INDEXED_VALUE_TYPE_") != kind.upper():
            raise StackError(
                "temporal",
                f"search attribute {key} is registered as {have}, not {kind}; "
                "remove var/temporal/temporal.db to start afresh",
            )
    return missing


def ensure_search_attributes(cfg: Config) -> None:
    """Register any custom search attribute the namespace lacks (normally none: start-dev
    registers them; this covers a server started without the flags)."""
    out = _temporal_cli(
        cfg,
        "operator",
        "search-attribute",
        "list",
        "--namespace",
        "default",
        "--output",
        "json",
        what="search-attribute list",
    )
    try:
        custom = json.loads(out).get("customAttributes") or {}
    except (ValueError, AttributeError):
        raise StackError("temporal", "could not read `search-attribute list` output", out) from None
    for key, kind in missing_search_attributes(custom).items():
        _temporal_cli(
            cfg,
            "operator",
            "search-attribute",
            "create",
            "--namespace",
            "default",
            "--name",
            key,
            "--type",
            kind,
            what=f"search-attribute create {key}",
        )


def start_temporal(cfg: Config) -> int:
    if not cfg.temporal_bin.exists():
        raise StackError(
            "temporal",
            f"no {cfg.rel(cfg.temporal_bin)}; create the venv from requirements.txt "
            "(it installs temporal-bin)",
        )
    check_ports_free(cfg, "temporal")
    cfg.temporal_db.parent.mkdir(parents=True, exist_ok=True)
    return spawn(cfg, "temporal", temporal_argv(cfg))


# --------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------

PG_TOOLS = ("initdb", "postgres", "pg_isready", "psql")


def find_pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin with every tool we use."""
    candidates = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if all((bindir / tool).exists() for tool in PG_TOOLS) and bindir.parent.name.isdigit():
            candidates.append((int(bindir.parent.name), bindir))
    return max(candidates)[1] if candidates else None


def install_postgres() -> Path:
    """Install the OS packages, without letting Debian create or start its own cluster."""
    if os.geteuid() != 0:
        raise StackError(
            "postgres", "PostgreSQL is not installed; run as root or apt-get install postgresql"
        )
    _need_tool("postgres", "apt-get", "install PostgreSQL 15+ by hand")
    say("postgres", "installing PostgreSQL from the OS packages (first run only)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run("postgres", ["apt-get", "update"], what="apt-get update", timeout=600, env=env)
    apt_install = ["apt-get", "install", "-y", "--no-install-recommends"]
    _run(
        "postgres",
        [*apt_install, "postgresql-common"],
        what="apt-get install postgresql-common",
        timeout=600,
        env=env,
    )
    conf = Path("/etc/postgresql-common/createcluster.conf")
    if conf.exists():
        text = conf.read_text()
        new = re.sub(
            r"^#?\s*create_main_cluster\s*=.*$",
            "create_main_cluster = false",
            text,
            count=1,
            flags=re.M,
        )
        if new != text:
            conf.write_text(new)
    _run(
        "postgres",
        [*apt_install, "postgresql"],
        what="apt-get install postgresql",
        timeout=900,
        env=env,
    )
    bindir = find_pg_bin()
    if bindir is None:
        raise StackError("postgres", "apt-get installed postgresql but no initdb/postgres found")
    return bindir


def _make_traversable(path: Path) -> None:
    """Let the postgres OS user reach var/postgres: o+x on every ancestor that lacks it."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            say("postgres", f"chmod o+x {parent} (so the postgres user can reach its data)")
            parent.chmod(mode | 0o001)


def prepare_postgres(cfg: Config) -> Path:
    bindir = find_pg_bin() or install_postgres()
    try:
        pw = pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise StackError("postgres", f"no `{PG_OS_USER}` OS user (reinstall postgresql)") from None
    if os.geteuid() != 0 and os.geteuid() != pw.pw_uid:
        raise StackError("postgres", f"run as root or as `{PG_OS_USER}` to manage the cluster")
    cfg.pg_dir.mkdir(parents=True, exist_ok=True)
    _make_traversable(cfg.pg_dir)
    for directory, mode in ((cfg.pg_dir, 0o755), (cfg.pg_socket_dir, 0o755), (cfg.pg_data, 0o700)):
        directory.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(directory, pw.pw_uid, pw.pw_gid)
        directory.chmod(mode)
    if not (cfg.pg_data / "PG_VERSION").exists():
        say("postgres", f"initialising a cluster in {cfg.rel(cfg.pg_data)}")
        _run(
            "postgres",
            [
                str(bindir / "initdb"),
                "-D",
                str(cfg.pg_data),
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-locale",
                "--auth-local=peer",
                "--auth-host=trust",
                "--no-instructions",
            ],
            what="initdb",
            user=PG_OS_USER,
            cwd=cfg.pg_dir,
            timeout=300,
        )
        hba = cfg.pg_data / "pg_hba.conf"
        hba.write_text(
            "# Written by deploy/local/stack.py: local development only.\n"
            "# TYPE  DATABASE  USER  ADDRESS        METHOD\n"
            "local   all       all                  peer\n"
            "host    all       all   127.0.0.1/32   trust\n"
        )
        if os.geteuid() == 0:
            os.chown(hba, pw.pw_uid, pw.pw_gid)
    return bindir


def postgres_argv(cfg: Config, bindir: Path) -> list[str]:
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(cfg.pg_port),
        "unix_socket_directories": str(cfg.pg_socket_dir),
        "max_connections": "200",
        "logging_collector": "off",
        "log_line_prefix": "%m [%p] %q%u@%d ",
    }
    argv = [str(bindir / "postgres"), "-D", str(cfg.pg_data)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    return argv


def postgres_healthy(cfg: Config) -> bool:
    bindir = find_pg_bin()
    if bindir is None or not port_open(cfg.pg_port):
        return False
    proc = subprocess.run(
        [
            str(bindir / "pg_isready"),
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            str(cfg.pg_port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-t",
            "2",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=10,
    )
    return proc.returncode == 0


def _psql(cfg: Config, bindir: Path, sql: str) -> str:
    return _run(
        "postgres",
        [
            str(bindir / "psql"),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(cfg.pg_port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            sql,
        ],
        what="psql",
        timeout=60,
    )


def ensure_databases(cfg: Config) -> None:
    bindir = find_pg_bin()
    assert bindir is not None
    if _psql(cfg, bindir, f"SELECT 1 FROM pg_roles WHERE rolname = '{PG_ROLE}'").strip() != "1":
        _psql(cfg, bindir, f"CREATE ROLE {PG_ROLE} LOGIN SUPERUSER")
    existing = set(_psql(cfg, bindir, "SELECT datname FROM pg_database").split())
    for db in PG_DATABASES:
        if db not in existing:
            _psql(cfg, bindir, f"CREATE DATABASE {db} OWNER {PG_ROLE}")


def start_postgres(cfg: Config) -> int:
    check_ports_free(cfg, "postgres")
    bindir = prepare_postgres(cfg)
    stale = cfg.pg_data / "postmaster.pid"
    if stale.exists():
        # No postgres of ours runs (checked by the caller): a crash left this behind.
        stale.unlink()
    return spawn(cfg, "postgres", postgres_argv(cfg, bindir), cwd=cfg.pg_dir, user=PG_OS_USER)


# --------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------


def service_env(cfg: Config, name: str, postgres: bool) -> dict[str, str]:
    env = dict(os.environ)
    port = str(cfg.service_ports[name])
    env.update(
        {
            f"{name.upper()}_PORT": port,
            "PORT": port,
            "KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
            "TEMPORAL_ADDRESS": cfg.temporal_address,
            "CHARTFLOW_VAR": str(cfg.var),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if postgres and not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = cfg.database_url
    return env


def start_service(cfg: Config, name: str) -> int:
    if not cfg.python.exists():
        raise StackError(name, f"no {cfg.rel(cfg.python)}; create the venv from requirements.txt")
    if cfg.services_package == "services":
        main = cfg.repo / "services" / name / "__main__.py"
        if not main.exists():
            raise StackError(name, f"{cfg.rel(main)} does not exist; nothing to run")
    check_ports_free(cfg, name)
    postgres = cfg.services_on_postgres and running_pid(cfg, "postgres") is not None
    argv = [str(cfg.python), "-m", f"{cfg.services_package}.{name}", "run"]
    return spawn(cfg, name, argv, env=service_env(cfg, name, postgres))


def service_healthy(cfg: Config, name: str) -> bool:
    return http_ok(f"http://127.0.0.1:{cfg.service_ports[name]}/health")


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------

_QUIET = False


def say(component: str, message: str) -> None:
    if not _QUIET:
        print(f"stack: {component}: {message}", flush=True)


def healthy(cfg: Config, name: str) -> bool:
    try:
        if name == "kafka":
            return kafka_healthy(cfg)
        if name == "temporal":
            return temporal_healthy(cfg)
        if name == "postgres":
            return postgres_healthy(cfg)
        return service_healthy(cfg, name)
    except (OSError, StackError, ValueError, struct.error, subprocess.SubprocessError):
        return False


def _what(name: str) -> str:
    return {"kafka": "broker", "temporal": "dev server", "postgres": "server"}.get(name, "service")


def _after_start(cfg: Config, name: str) -> None:
    if name == "temporal":
        ensure_search_attributes(cfg)
    elif name == "postgres":
        ensure_databases(cfg)


_STARTERS: Mapping[str, Callable[[Config], int]] = MappingProxyType(
    {"kafka": start_kafka, "temporal": start_temporal, "postgres": start_postgres}
)


def _await(cfg: Config, name: str, pid: int, t0: float) -> None:
    """Wait for one component, finish its setup and say so (runs in a worker thread)."""
    wait_healthy(cfg, name, pid, lambda: healthy(cfg, name), _what(name))
    _after_start(cfg, name)
    ports = ",".join(str(p) for p in cfg.ports(name))
    if t0 < 0:
        say(name, f"already running (pid {pid}, port {ports})")
    else:
        say(name, f"up (pid {pid}, port {ports}) in {time.monotonic() - t0:.1f}s")


def _start_wave(cfg: Config, names: Sequence[str]) -> None:
    """Start the components of one wave one after the other, each one's health being
    awaited in its own thread while the next starts (Kafka's first start downloads jars)."""
    fresh: set[str] = set()
    errors: list[StackError] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        waits: dict[str, concurrent.futures.Future[None]] = {}
        for name in names:
            try:
                pid = running_pid(cfg, name)
                t0 = -1.0
                if pid is None:
                    t0 = time.monotonic()
                    starter = _STARTERS.get(name)
                    pid = starter(cfg) if starter is not None else start_service(cfg, name)
                    fresh.add(name)
            except StackError as exc:
                errors.append(exc)
                break
            waits[name] = pool.submit(_await, cfg, name, pid, t0)
        for future in waits.values():
            failure = future.exception()
            if isinstance(failure, StackError):
                errors.append(failure)
            elif failure is not None:
                raise failure
    for error in errors:
        # Leave nothing half-started behind: stop what failed.
        if error.component in fresh:
            stop(cfg, error.component, quiet=True)
    if errors:
        for extra in errors[1:]:
            print(f"stack: {extra}", file=sys.stderr)
        raise errors[0]


def up(cfg: Config, names: Sequence[str]) -> None:
    # Kafka last: its first start downloads jars, while the others boot.
    infra = [n for n in ("temporal", "postgres", "kafka") if n in names]
    services = [n for n in SERVICES if n in names]
    cfg = dataclasses.replace(cfg, services_on_postgres="postgres" in names)
    if infra:
        _start_wave(cfg, infra)
    if services:
        _start_wave(cfg, services)


def stop(cfg: Config, name: str, quiet: bool = False) -> bool:
    """Stop every process of the component; True if something was running."""
    pids = set(find_processes(cfg, name))
    pid = _read_pid(cfg.pid_file(name))
    if pid is not None and pid_alive(pid) and matches(cfg, name, cmdline(pid)):
        pids.add(pid)
    cfg.pid_file(name).unlink(missing_ok=True)
    if not pids:
        return False
    grace = {"kafka": 30.0, "postgres": 30.0}.get(name, 15.0)
    # PostgreSQL: SIGINT is "fast shutdown" (SIGTERM would wait for clients to disconnect).
    first = signal.SIGINT if name == "postgres" else signal.SIGTERM
    t0 = time.monotonic()
    stubborn = terminate(sorted(pids), grace, first)
    if not quiet:
        how = " (killed)" if stubborn else ""
        pid_list = ",".join(str(p) for p in sorted(pids))
        say(name, f"stopped pid {pid_list} in {time.monotonic() - t0:.1f}s{how}")
    return True


def down(cfg: Config, names: Sequence[str]) -> None:
    order = [n for n in (*SERVICES, "kafka", "temporal", "postgres") if n in names]
    for name in order:
        if not stop(cfg, name):
            say(name, "not running")


def status_lines(cfg: Config) -> list[str]:
    lines = []
    for name in COMPONENTS:
        pid = running_pid(cfg, name)
        state = "running" if pid is not None else "stopped"
        ports = ",".join(str(p) for p in cfg.ports(name))
        lines.append(f"{name:<11} {state:<8} pid {pid if pid else '-':<8} port {ports}")
    return lines


def env_lines(cfg: Config) -> list[str]:
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
        "TEMPORAL_ADDRESS": cfg.temporal_address,
    }
    if running_pid(cfg, "postgres") is not None:
        values["DATABASE_URL"] = cfg.database_url
    return [f"export {key}={shlex.quote(value)}" for key, value in values.items()]


def show_logs(cfg: Config, name: str, lines: int, follow: bool, out: IO[str]) -> None:
    path = cfg.log_file(name)
    if not path.exists():
        raise StackError(name, f"no log yet at {cfg.rel(path)}")
    for line in log_tail(path, lines):
        print(line, file=out)
    if follow:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            while True:
                chunk = fh.readline()
                if chunk:
                    out.write(chunk.decode(errors="replace"))
                    out.flush()
                else:
                    time.sleep(0.3)


def show_all_logs(cfg: Config, lines: int, out: IO[str]) -> None:
    """The tail of every component's log that exists, each under a header."""
    shown = 0
    for name in COMPONENTS:
        path = cfg.log_file(name)
        if path.exists():
            print(f"==> {cfg.rel(path)} <==", file=out)
            for line in log_tail(path, lines):
                print(line, file=out)
            shown += 1
    if not shown:
        raise StackError("", f"no logs yet in {cfg.rel(cfg.log_dir)}")


@contextlib.contextmanager
def stack_lock(cfg: Config) -> Iterator[None]:
    """Serialise concurrent up/down runs on one var/ directory."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with open(cfg.run_dir / "stack.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("stack", "another stack.py up/down is running; waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _selected(only: Sequence[str] | None) -> list[str]:
    names: list[str] = []
    for item in only or []:
        for name in item.split(","):
            name = name.strip()
            if name not in COMPONENTS:
                raise StackError(
                    "stack", f"unknown component {name!r} (one of {', '.join(COMPONENTS)})"
                )
            if name not in names:
                names.append(name)
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stack.py", description="Run Chartflow's Kafka, Temporal, PostgreSQL and services."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start what is not running and wait for health")
    p_up.add_argument("--postgres", action="store_true", help="also PostgreSQL")
    p_up.add_argument("--services", action="store_true", help="also the four services")
    p_up.add_argument("--only", action="append", metavar="NAME", help="just these components")
    p_up.add_argument("--timeout", type=float, help="seconds to wait for each component")
    p_down = sub.add_parser("down", help="stop every process of the stack")
    p_down.add_argument("--only", action="append", metavar="NAME", help="just these components")
    sub.add_parser("status", help="one line per component")
    p_logs = sub.add_parser("logs", help="tail a component's log (every log without NAME)")
    p_logs.add_argument("name", nargs="?", choices=COMPONENTS)
    p_logs.add_argument("-n", "--lines", type=int, default=50)
    p_logs.add_argument("-f", "--follow", action="store_true")
    sub.add_parser("env", help="print export lines of the addresses")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = Config.from_env()
        if args.command == "up" and args.timeout:
            cfg = dataclasses.replace(cfg, timeout=args.timeout)
        for directory in (cfg.run_dir, cfg.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if args.command == "up":
            names = _selected(args.only)
            if not names:
                names = ["kafka", "temporal"]
                if args.postgres or cfg.wants_postgres_from_env(os.environ):
                    names.append("postgres")
                if args.services:
                    names += SERVICES
            with stack_lock(cfg):
                up(cfg, names)
        elif args.command == "down":
            names = _selected(args.only) or list(COMPONENTS)
            with stack_lock(cfg):
                down(cfg, names)
        elif args.command == "status":
            print("\n".join(status_lines(cfg)))
        elif args.command == "env":
            print("\n".join(env_lines(cfg)))
        elif args.command == "logs":
            if args.name:
                show_logs(cfg, args.name, args.lines, args.follow, sys.stdout)
            else:
                show_all_logs(cfg, args.lines, sys.stdout)
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        if exc.detail:
            print(f"--- last lines ---\n{exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
