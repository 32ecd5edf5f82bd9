"""Settings → aiokafka options, and the ACLs a namespace gets (no broker needed)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from fastapi import FastAPI

from shared.cli import serve
from shared.kafka_access import namespace_acls, namespace_topics
from shared.kafka_acls import Operation, Pattern, Resource
from shared.kafka_security import KafkaCredentialsError, kafka_auth, read_client_credentials
from shared.settings import ChartflowSettings

CLIENT_FILE = (
    "security.protocol=SASL_PLAINTEXT\n"
    "sasl.mechanism=SCRAM-SHA-512\n"
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
    'username="coding" password="p\\"w";\n'
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_USERNAME", "KAFKA_PASSWORD", "KAFKA_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KAFKA_SECURITY_PROTOCOL", raising=False)


def test_a_service_authenticates_with_its_client_file(tmp_path: Path) -> None:
    (tmp_path / "coding.properties").write_text(CLIENT_FILE)
    settings = ChartflowSettings(kafka_credentials_file=tmp_path / "coding.properties")

    assert kafka_auth(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "coding",
        "sasl_plain_password": 'p"w',
    }


def test_or_with_a_username_and_password() -> None:
    settings = ChartflowSettings(kafka_username="claims", kafka_password="secret")

    options = kafka_auth(settings)

    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("claims", "secret")
    assert "secret" not in repr(settings)  # a SecretStr: not in logs or tracebacks


def test_no_credentials_is_a_clear_error_naming_the_settings() -> None:
    with pytest.raises(KafkaCredentialsError, match="set KAFKA_CREDENTIALS_FILE"):
        kafka_auth(ChartflowSettings(service_name="claims"))


def test_both_kinds_of_credentials_at_once_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "c.properties").write_text(CLIENT_FILE)
    settings = ChartflowSettings(
        kafka_credentials_file=tmp_path / "c.properties", kafka_username="x", kafka_password="y"
    )
    with pytest.raises(KafkaCredentialsError, match="not both"):
        kafka_auth(settings)


def test_a_client_file_without_a_password_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.properties"
    path.write_text('sasl.jaas.config=... required username="x";\n')
    with pytest.raises(KafkaCredentialsError, match='no password="..."'):
        read_client_credentials(path)
    with pytest.raises(KafkaCredentialsError, match="cannot read"):
        read_client_credentials(tmp_path / "missing.properties")


def test_sasl_ssl_verifies_the_broker_against_the_ca(tmp_path: Path) -> None:
    settings = ChartflowSettings(
        kafka_security_protocol="SASL_SSL", kafka_username="intake", kafka_password="s"
    )

    context = kafka_auth(settings)["ssl_context"]

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_plaintext_only_when_asked_for() -> None:
    settings = ChartflowSettings(kafka_security_protocol="PLAINTEXT")
    assert kafka_auth(settings) == {"security_protocol": "PLAINTEXT"}
    assert ChartflowSettings().kafka_security_protocol == "SASL_PLAINTEXT"  # secure default


def test_a_service_without_kafka_credentials_refuses_to_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def never(settings: ChartflowSettings, roles: frozenset[str]) -> FastAPI:
        raise AssertionError("the app must not be built")

    assert serve(ChartflowSettings(service_name="coding"), never, ["consumer"]) == 2
    assert "coding: Kafka needs credentials" in capsys.readouterr().err


def test_a_test_namespace_grants_nothing_outside_its_prefix() -> None:
    acls = namespace_acls("t123.")

    assert all(acl.name.startswith("t123.") for acl in acls)
    assert {acl.principal for acl in acls} == {"intake", "assignment", "coding", "claims"}
    groups = {(a.principal, a.name, a.pattern) for a in acls if a.resource == Resource.GROUP}
    services = ("intake", "assignment", "coding", "claims")
    assert groups == {(s, f"t123.{s}.", Pattern.PREFIXED) for s in services} | {
        (s, "t123.chartflow.dlq-replay", Pattern.LITERAL) for s in services
    }
    topics = [a for a in acls if a.resource == Resource.TOPIC]
    assert all(a.pattern == Pattern.LITERAL for a in topics)  # no wildcard on topics
    assert {a.operation for a in acls} == {Operation.READ, Operation.WRITE, Operation.DESCRIBE}
    # The DLQ replay mark: services may only look at it, never move it.
    replay_mark = [a for a in acls if a.name == "t123.chartflow.dlq-replay"]
    assert {a.operation for a in replay_mark} == {Operation.DESCRIBE}


def test_every_topic_has_a_dead_letter_topic() -> None:
    names = {t.name: t.num_partitions for t in namespace_topics("p.")}
    platform = (
        "encounters.received",
        "coding.tasks",
        "coding.events",
        "encounters.coded",
        "claims.status",
        "encounters.returned",
        "physician.queries",
        "physician.answers",
        "assignment.events",
        "coding.scorecards",
        "access.log",
    )
    assert names == {
        **{f"p.{t}": 3 for t in platform},
        **{f"p.{t}.dlq": 1 for t in platform},
    }
