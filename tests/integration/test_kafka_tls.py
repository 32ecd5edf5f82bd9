"""The production listener, SASL_SSL, shown working: a second local broker with `KAFKA_TLS=1`
(a self-signed certificate made with keytool), and clients that verify it with the CA file.

The session's broker stays as it is; this one runs on two free ports, with its own var/ in a
temporary directory (the jars are the session's), for the duration of this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError

from deploy.local.runner.kafka_auth import credentials_file
from deploy.local.runner.kafka_tls import ca_file
from deploy.local.runner.lifecycle import down, up
from deploy.local.stack import Config
from shared.kafka import Publisher
from shared.kafka_security import kafka_auth
from shared.settings import ChartflowSettings
from tests.conftest import REPO
from tests.ports import free_ports

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    jars = REPO / "var/kafka/libs"
    if not (jars / ".pom.sha256").exists():
        pytest.skip("needs deploy/local's Kafka jars (python3 deploy/local/stack.py up)")
    kafka_port, controller_port = free_ports(2)
    env = {
        "KAFKA_PORT": str(kafka_port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
        "KAFKA_TLS": "1",
        "KAFKA_HEAP_OPTS": "-Xmx256m -Xms128m",
        "STACK_TIMEOUT": "120",
    }
    var = tmp_path_factory.mktemp("tls-broker") / "var"
    cfg = dataclasses.replace(Config.from_env(env, repo=REPO), var=var)
    for directory in (cfg.kafka_dir, cfg.run_dir, cfg.log_dir):
        directory.mkdir(parents=True)
    cfg.kafka_libs.symlink_to(jars)
    try:
        up(cfg, ["kafka"])
        yield cfg
    finally:
        down(cfg, ["kafka"])


def _settings(cfg: Config, **overrides: object) -> ChartflowSettings:
    fields: dict[str, object] = {
        "kafka_bootstrap_servers": cfg.kafka_bootstrap,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_credentials_file": credentials_file(cfg, "admin"),
        "kafka_ssl_cafile": ca_file(cfg),
    }
    return ChartflowSettings.model_validate({**fields, **overrides})


async def test_a_client_with_the_ca_file_publishes_and_reads_over_sasl_ssl(
    tls_broker: Config,
) -> None:
    settings = _settings(tls_broker)
    properties = tls_broker.kafka_properties.read_text()
    assert "listener.security.protocol.map=BROKER:SASL_SSL," in properties
    assert "security.protocol=SASL_SSL" in credentials_file(tls_broker, "intake").read_text()

    publisher = Publisher(tls_broker.kafka_bootstrap, **kafka_auth(settings))
    await publisher.start()
    try:
        await publisher.send_raw("encounters.received", "mercy:1", b"over TLS")
    finally:
        await publisher.stop()
    reader = AIOKafkaConsumer(
        "encounters.received",
        bootstrap_servers=tls_broker.kafka_bootstrap,
        auto_offset_reset="earliest",
        **kafka_auth(settings),
    )
    await reader.start()
    try:
        batches = await reader.getmany(timeout_ms=10000)
    finally:
        await reader.stop()

    assert [m.value for ms in batches.values() for m in ms] == [b"over TLS"]


async def test_a_client_that_does_not_trust_the_certificate_is_refused(
    tls_broker: Config, caplog: pytest.LogCaptureFixture
) -> None:
    # No CA file: the system's CAs, which never signed this self-signed certificate.
    untrusting = _settings(tls_broker, kafka_ssl_cafile=None)
    publisher = Publisher(tls_broker.kafka_bootstrap, **kafka_auth(untrusting))
    with pytest.raises(KafkaConnectionError):
        await publisher.start()
    await publisher.stop()
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


async def test_a_client_without_tls_cannot_talk_to_the_listener(tls_broker: Config) -> None:
    plaintext = _settings(tls_broker, kafka_security_protocol="SASL_PLAINTEXT")
    publisher = Publisher(tls_broker.kafka_bootstrap, **kafka_auth(plaintext))
    with pytest.raises(KafkaConnectionError):
        await publisher.start()
    await publisher.stop()


def test_the_keystore_and_its_password_are_private(tls_broker: Config) -> None:
    tls = tls_broker.kafka_dir / "tls"
    assert sorted(p.name for p in tls.iterdir()) == ["broker.p12", "ca.pem", "keystore.password"]
    assert (tls / "broker.p12").stat().st_mode & 0o777 == 0o600
    assert (tls / "keystore.password").stat().st_mode & 0o777 == 0o600
    assert tls_broker.kafka_properties.stat().st_mode & 0o777 == 0o600
    assert Path(ca_file(tls_broker)).read_text().startswith("-----BEGIN CERTIFICATE-----")
