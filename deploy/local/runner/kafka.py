"""Kafka: one KRaft node from Maven's jars, its properties rendered from a template."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import shutil
import socket
import ssl
import struct
import uuid

from .config import LOCAL, Config
from .kafka_auth import (
    ADMIN,
    BROKER,
    PRINCIPALS,
    SECURITY_STAMP,
    check_formatted_with_users,
    credentials_file,
    ensure_credentials,
    scram_argument,
    write_private,
)
from .kafka_tls import ca_file, client_tls_context, ensure_broker_tls, tls_properties
from .logs import log_contains
from .net import check_ports_free
from .process import spawn
from .report import StackError, say
from .tools import need_tool, run

KAFKA_FILES = LOCAL / "kafka"
KAFKA_STARTED_MARKER = "Kafka Server started"


def _java_major(java: str) -> int:
    out = run("kafka", [java, "-version"], what="java -version", timeout=30)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not found:
        return 0
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def kafka_jars(cfg: Config) -> None:
    """Copy the broker's jars into var/kafka/libs with Maven, once per pom.xml version."""
    pom = KAFKA_FILES / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    stamp = cfg.kafka_libs / ".pom.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    mvn = need_tool("kafka", "mvn", "install Maven (apt-get install -y maven)")
    staging = cfg.kafka_dir / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    say("kafka", "fetching the broker's jars with Maven (first run only)")
    run(
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


def render_kafka_properties(cfg: Config, broker_password: str) -> str:
    template = (KAFKA_FILES / "server.properties").read_text()
    values = {
        "KAFKA_PORT": str(cfg.kafka_port),
        "KAFKA_CONTROLLER_PORT": str(cfg.kafka_controller_port),
        "KAFKA_DATA_DIR": str(cfg.kafka_data),
        "KAFKA_BROKER_PASSWORD": broker_password,
        "KAFKA_BROKER_PROTOCOL": cfg.kafka_protocol,
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
        f"-Dlog4j2.configurationFile={KAFKA_FILES / 'log4j2.xml'}",
        "-cp",
        f"{cfg.kafka_libs}/*",
        main,
        *args,
    ]


def kafka_api_versions(port: int, timeout: float = 2.0, tls: ssl.SSLContext | None = None) -> bool:
    """A real protocol round trip: send ApiVersions v0 (allowed before SASL), expect
    error_code 0; over TLS when given a context that trusts the broker."""
    client_id = b"chartflow-stack"
    correlation = 7
    header = struct.pack(">hhih", 18, 0, correlation, len(client_id)) + client_id
    with contextlib.ExitStack() as closing:
        sock = closing.enter_context(socket.create_connection(("127.0.0.1", port), timeout))
        if tls is not None:
            sock = closing.enter_context(tls.wrap_socket(sock, server_hostname="127.0.0.1"))
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


def kafka_healthy(cfg: Config) -> bool:
    tls = client_tls_context(cfg) if cfg.kafka_tls else None
    if not kafka_api_versions(cfg.kafka_port, tls=tls):
        return False
    return log_contains(cfg.log_file("kafka"), KAFKA_STARTED_MARKER)


def start_kafka(cfg: Config) -> int:
    java = need_tool(
        "kafka", "java", "install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
    )
    major = _java_major(java)
    if major < 17:
        raise StackError("kafka", f"Kafka 4 needs Java 17 or newer; `java` is version {major}")
    check_ports_free(cfg, "kafka")
    kafka_jars(cfg)
    cfg.kafka_data.mkdir(parents=True, exist_ok=True)
    cfg.kafka_data.chmod(0o700)  # topic segments: the broker's user only
    formatted = (cfg.kafka_data / "meta.properties").exists()
    if formatted:
        check_formatted_with_users(cfg)
    tls = ensure_broker_tls(cfg) if cfg.kafka_tls else None
    passwords = ensure_credentials(cfg, formatted, tls.ca_file if tls else None)
    properties = render_kafka_properties(cfg, passwords[BROKER])
    write_private(cfg.kafka_properties, properties + (tls_properties(tls) if tls else ""))
    if not formatted:
        format_storage(cfg, java, passwords)
    return spawn(cfg, "kafka", kafka_java_argv(cfg, java, "kafka.Kafka", str(cfg.kafka_properties)))


def format_storage(cfg: Config, java: str, passwords: dict[str, str]) -> None:
    """Format the KRaft storage once, with every principal's SCRAM credential in it."""
    say("kafka", f"formatting storage in {cfg.rel(cfg.kafka_data)} with SCRAM users")
    users = [
        arg for name in PRINCIPALS for arg in ("--add-scram", scram_argument(name, passwords[name]))
    ]
    argv = kafka_java_argv(
        cfg,
        java,
        "kafka.tools.StorageTool",
        "format",
        "--cluster-id",
        kafka_cluster_id(),
        "--config",
        str(cfg.kafka_properties),
        *users,
    )
    run("kafka", argv, what="kafka.tools.StorageTool format", timeout=120)
    (cfg.kafka_data / SECURITY_STAMP).write_text("\n".join(PRINCIPALS) + "\n")


def provision_topics_and_acls(cfg: Config) -> None:
    """Create the topics and ACLs of the default namespace, and of CHARTFLOW_NAMESPACE_PREFIX's
    when set (the services started alongside use it), as the admin: idempotent, every `up`."""
    if not cfg.python.exists():
        raise StackError("kafka", f"no {cfg.rel(cfg.python)} to create topics and ACLs; make venv")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
        **kafka_client_env(cfg, ADMIN),
    }
    prefixes = dict.fromkeys(["", os.environ.get("CHARTFLOW_NAMESPACE_PREFIX", "")])
    for prefix in prefixes:
        argv = [str(cfg.python), "-m", "shared.kafka_access", "provision", "--prefix", prefix]
        out = run("kafka", argv, what="shared.kafka_access provision", cwd=cfg.repo, env=env)
        say("kafka", out.strip().removeprefix("kafka: "))


def kafka_client_env(cfg: Config, principal: str) -> dict[str, str]:
    """The settings (environment) of a Kafka client of this broker, as `principal`."""
    env = {
        "KAFKA_SECURITY_PROTOCOL": cfg.kafka_protocol,
        "KAFKA_CREDENTIALS_FILE": str(credentials_file(cfg, principal)),
    }
    if cfg.kafka_tls:
        env["KAFKA_SSL_CAFILE"] = str(ca_file(cfg))
    return env
