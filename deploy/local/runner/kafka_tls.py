"""TLS on the broker listener (`KAFKA_TLS=1`: SASL_SSL), with a self-signed certificate.

What production does with a certificate from its own CA (docs/kafka-security.md), shown
here with `keytool` from the JDK: a PKCS12 keystore for the broker, and its certificate
(`var/kafka/tls/ca.pem`) as the CA file every client verifies the broker against.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import ssl
from pathlib import Path

from .config import Config
from .report import say
from .tools import need_tool, run

TLS_VALIDITY_DAYS = 365


@dataclasses.dataclass(frozen=True)
class BrokerTls:
    keystore: Path  # PKCS12: the broker's key and certificate
    keystore_password: str
    ca_file: Path  # PEM: what clients trust


def _tls_dir(cfg: Config) -> Path:
    return cfg.kafka_dir / "tls"


def ca_file(cfg: Config) -> Path:
    return _tls_dir(cfg) / "ca.pem"


def ensure_broker_tls(cfg: Config) -> BrokerTls:
    """The broker's keystore and CA file, made with keytool on the first TLS start."""
    directory = _tls_dir(cfg)
    keystore, password_file = directory / "broker.p12", directory / "keystore.password"
    if keystore.exists() and password_file.exists() and ca_file(cfg).exists():
        return BrokerTls(keystore, password_file.read_text().strip(), ca_file(cfg))
    keytool = need_tool("kafka", "keytool", "install a JDK 17+ (keytool comes with it)")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for stale in (keystore, password_file, ca_file(cfg)):
        stale.unlink(missing_ok=True)
    password = secrets.token_urlsafe(24)
    # keytool reads the password from the environment, so it is on no command line.
    env = {**os.environ, "CHARTFLOW_KEYSTORE_PASSWORD": password}
    store = ["-keystore", str(keystore), "-storetype", "PKCS12"]
    store += ["-storepass:env", "CHARTFLOW_KEYSTORE_PASSWORD"]
    say("kafka", f"making a self-signed TLS certificate in {cfg.rel(directory)} (keytool)")
    run(
        "kafka",
        [keytool, "-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1"]
        + ["-validity", str(TLS_VALIDITY_DAYS), "-dname", "CN=localhost"]
        + ["-ext", "SAN=ip:127.0.0.1,dns:localhost", "-noprompt", *store],
        what="keytool -genkeypair",
        env=env,
    )
    run(
        "kafka",
        [keytool, "-exportcert", "-alias", "broker", "-rfc", "-file", str(ca_file(cfg)), *store],
        what="keytool -exportcert",
        env=env,
    )
    keystore.chmod(0o600)
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return BrokerTls(keystore, password, ca_file(cfg))


def tls_properties(tls: BrokerTls) -> str:
    """The broker listener's TLS settings (appended to server.properties)."""
    return (
        "\n# TLS on the broker listener (KAFKA_TLS=1): self-signed, see docs/kafka-security.md.\n"
        "listener.name.broker.ssl.keystore.type=PKCS12\n"
        f"listener.name.broker.ssl.keystore.location={tls.keystore}\n"
        f"listener.name.broker.ssl.keystore.password={tls.keystore_password}\n"
        # The broker is also a client of its own listener: it trusts the same certificate.
        "listener.name.broker.ssl.truststore.type=PEM\n"
        f"listener.name.broker.ssl.truststore.location={tls.ca_file}\n"
        "ssl.enabled.protocols=TLSv1.3,TLSv1.2\n"
    )


def client_tls_context(cfg: Config) -> ssl.SSLContext:
    """What the runner's health check trusts: the broker's own certificate."""
    return ssl.create_default_context(cafile=str(ca_file(cfg)))
