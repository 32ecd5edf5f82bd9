"""Kafka, Temporal and PostgreSQL as testcontainers, for machines that have a Docker engine.

Machines without one (like the project's CI) use `deploy/local` instead; see tests/conftest.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tests.stack import SEARCH_ATTRIBUTES_FLAGS, Stack


def docker_engine_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # No client library, no socket, or no engine behind it.
        return False
    return True


@contextlib.contextmanager
def containers() -> Iterator[Stack]:
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.core.container import DockerContainer

    kafka = KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft()
    postgres = PostgresContainer(
        "postgres:16", username="chartflow", password="chartflow", dbname="chartflow",
        driver="psycopg",
    )  # fmt: skip
    temporal = (
        DockerContainer("temporalio/temporal:latest")
        .with_command(f"server start-dev --ip 0.0.0.0 {SEARCH_ATTRIBUTES_FLAGS}")
        .with_exposed_ports(7233)
    )
    with kafka, postgres, temporal:
        host = temporal.get_container_host_ip()
        yield Stack(
            kafka=kafka.get_bootstrap_server(),
            temporal=f"{host}:{temporal.get_exposed_port(7233)}",
            database_url=postgres.get_connection_url(),
        )
