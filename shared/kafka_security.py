"""How every Kafka client of a service authenticates: its settings turned into aiokafka options.

Each service is one SASL/SCRAM principal; the broker's ACLs (`shared.kafka_access`) decide
what it may read and write. Every AIOKafkaProducer, AIOKafkaConsumer and admin client is
built with `kafka_auth(settings)`, so none of them can connect without credentials.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiokafka.helpers import create_ssl_context

from shared.settings import ChartflowSettings

# The JAAS line of a Kafka client file: ScramLoginModule required username="x" password="y";
_JAAS_FIELD = r'{}="((?:[^"\\]|\\.)*)"'


class KafkaCredentialsError(ValueError):
    """The settings do not say who this Kafka client is."""


def read_client_credentials(path: Path) -> tuple[str, str]:
    """Username and password from a Kafka client file's `sasl.jaas.config` line."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise KafkaCredentialsError(f"cannot read Kafka credentials file {path}: {exc}") from exc
    fields = []
    for name in ("username", "password"):
        found = re.search(_JAAS_FIELD.format(name), text)
        if not found:
            raise KafkaCredentialsError(f'{path}: no {name}="..." in its sasl.jaas.config line')
        fields.append(re.sub(r"\\(.)", r"\1", found.group(1)))
    return fields[0], fields[1]


def kafka_credentials(settings: ChartflowSettings) -> tuple[str, str]:
    """The service's principal: KAFKA_USERNAME / KAFKA_PASSWORD, else KAFKA_CREDENTIALS_FILE."""
    by_name = settings.kafka_username is not None or settings.kafka_password is not None
    if by_name and settings.kafka_credentials_file:
        raise KafkaCredentialsError(
            f"{settings.service_name}: set KAFKA_CREDENTIALS_FILE or KAFKA_USERNAME and "
            "KAFKA_PASSWORD, not both"
        )
    if settings.kafka_username and settings.kafka_password:
        return settings.kafka_username, settings.kafka_password.get_secret_value()
    if settings.kafka_credentials_file:
        return read_client_credentials(settings.kafka_credentials_file)
    raise KafkaCredentialsError(
        f"{settings.service_name}: Kafka needs credentials ({settings.kafka_security_protocol}):"
        " set KAFKA_CREDENTIALS_FILE (deploy/local: var/kafka/credentials/<service>.properties)"
        " or KAFKA_USERNAME and KAFKA_PASSWORD"
    )


def kafka_auth(settings: ChartflowSettings) -> dict[str, Any]:
    """How the service's Kafka clients connect: aiokafka keyword arguments for the protocol,
    SASL and TLS (every client takes them besides `bootstrap_servers`)."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol.startswith("SASL"):
        username, password = kafka_credentials(settings)
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    if protocol.endswith("SSL"):
        # Verifies the broker's certificate and host name against the CA (system CAs if unset).
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    return options


def operator_settings() -> ChartflowSettings:
    """Settings for an operator's command (DLQ, provisioning): the environment's, as the admin
    principal of `var/kafka/credentials/admin.properties` unless credentials are given."""
    settings = ChartflowSettings(service_name="admin")
    given = settings.kafka_credentials_file or settings.kafka_username
    local = settings.chartflow_var / "kafka" / "credentials" / "admin.properties"
    if not given and local.exists():
        settings = settings.model_copy(update={"kafka_credentials_file": local})
    return settings


__all__ = [
    "operator_settings",
    "KafkaCredentialsError",
    "kafka_auth",
    "kafka_credentials",
    "read_client_credentials",
]
