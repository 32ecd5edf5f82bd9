"""Settings base shared by every service: addresses of Kafka, Temporal and the database."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.crypto import SCOPES, Keyring, load_keyring

REPO_ROOT = Path(__file__).resolve().parent.parent


class ChartflowSettings(BaseSettings):
    """Defaults work on a laptop running `make demo`; every field can be set by environment."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "chartflow"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Kafka clients authenticate (SASL/SCRAM; SASL_SSL in production, docs/kafka-security.md)
    # as this service's principal: from a client file (deploy/local writes
    # var/kafka/credentials/<principal>.properties) or from kafka_username / kafka_password.
    kafka_security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT"] = "SASL_PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_credentials_file: Path | None = None
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None  # the CA that signed the brokers' certificates
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # Base URL; each service appends `_<service>` to the database name (PostgreSQL) or
    # uses `<var>/data/<service>.db` (SQLite, the embedded default).
    database_url: str | None = None
    chartflow_var: Path = REPO_ROOT / "var"
    # Tests isolate themselves with a unique prefix for topics and task queues.
    chartflow_namespace_prefix: str = ""
    # Unset: generated once into <var>/secrets/admin-token (shared.secrets); never defaulted.
    admin_token: str | None = None
    log_json: bool | None = None
    # Traces (shared.tracing): none (the default), console or otlp; unset, OTEL_TRACES_EXPORTER.
    tracing_exporter: Literal["none", "console", "otlp"] | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    outbox_poll_seconds: float = 0.2
    # PHI keys (shared.crypto): a keyring file outside the data folder in production, or the
    # keyring text (or one key) in PHI_KEY; neither: generated once into <var>/secrets.
    phi_key_file: Path | None = None
    phi_key: str | None = None
    # Consumers: a transient failure is retried with backoff doubling up to the maximum, and
    # dead-lettered once it has failed this long while the dependencies answered.
    consumer_retry_budget_seconds: float = 30.0
    consumer_max_backoff_seconds: float = 5.0
    consumer_attempt_timeout_seconds: float = 60.0
    # Readiness (`/health/ready`) turns false past either threshold.
    ready_stuck_seconds: float = 60.0
    ready_max_consumer_lag: int = 10_000
    # The key scopes this service is entitled to decrypt.
    phi_scopes: tuple[str, ...] = SCOPES

    def topic(self, name: str) -> str:
        return f"{self.chartflow_namespace_prefix}{name}"

    def phi_keyring(self) -> Keyring:
        return load_keyring(self.phi_key_file, self.phi_key, self.chartflow_var, self.phi_scopes)

    def service_database_url(self) -> str:
        prefix = "".join(ch if ch.isalnum() else "_" for ch in self.chartflow_namespace_prefix)
        if self.database_url:
            base, _, query = self.database_url.partition("?")
            url = f"{base}_{prefix}{self.service_name}"
            return f"{url}?{query}" if query else url
        data_dir = self.chartflow_var / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{data_dir / f'{prefix}{self.service_name}.db'}"
