"""The local broker's principals: generated credentials, storage formatting, each service's own."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from deploy.local.runner.cli import env_lines
from deploy.local.runner.kafka import render_kafka_properties
from deploy.local.runner.kafka_auth import (
    PRINCIPALS,
    SECURITY_STAMP,
    check_formatted_with_users,
    credentials_file,
    ensure_credentials,
    scram_argument,
)
from deploy.local.runner.services import service_env
from deploy.local.stack import Config, StackError
from shared.kafka_security import read_client_credentials


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_generates_one_private_credentials_file_per_principal(tmp_path: Path) -> None:
    cfg = Config.from_env({}, repo=tmp_path)

    passwords = ensure_credentials(cfg, formatted=False)

    assert sorted(passwords) == sorted(
        ["broker", "admin", "intake", "assignment", "coding", "claims"]
    )
    assert len(set(passwords.values())) == len(PRINCIPALS)  # no shared or default password
    assert all(len(p) >= 40 for p in passwords.values())
    assert _mode(cfg.kafka_credentials) == 0o700
    for name, password in passwords.items():
        path = credentials_file(cfg, name)
        assert _mode(path) == 0o600
        # The services read the same file the Kafka tools take as --command-config.
        assert read_client_credentials(path) == (name, password)
        assert "security.protocol=SASL_PLAINTEXT" in path.read_text()
    assert ensure_credentials(cfg, formatted=True) == passwords  # later starts read them back


def test_a_lost_credentials_file_after_formatting_is_explained(tmp_path: Path) -> None:
    cfg = Config.from_env({}, repo=tmp_path)
    ensure_credentials(cfg, formatted=False)
    credentials_file(cfg, "claims").unlink()

    with pytest.raises(StackError, match=r"claims.properties is missing.*remove var/kafka/data"):
        ensure_credentials(cfg, formatted=True)


def test_a_data_directory_from_an_older_build_is_refused_with_what_to_do(tmp_path: Path) -> None:
    cfg = Config.from_env({}, repo=tmp_path)
    cfg.kafka_data.mkdir(parents=True)
    (cfg.kafka_data / "meta.properties").write_text("version=1\n")

    with pytest.raises(StackError, match="formatted by an older build, without SASL users: remove"):
        check_formatted_with_users(cfg)
    (cfg.kafka_data / SECURITY_STAMP).write_text("broker\n")
    check_formatted_with_users(cfg)


def test_the_storage_format_argument_is_salted_and_never_holds_the_password() -> None:
    argument = scram_argument("intake", "the-password", salt=b"s" * 32)

    assert "the-password" not in argument
    assert argument.startswith("SCRAM-SHA-512=[name=intake,iterations=8192,")
    fields = dict(part.split("=", 1) for part in argument[len("SCRAM-SHA-512=[") : -1].split(","))
    assert base64.b64decode(fields["salt"].strip('"')) == b"s" * 32
    assert len(base64.b64decode(fields["saltedpassword"].strip('"'))) == 64  # SHA-512
    assert scram_argument("intake", "the-password") != scram_argument("intake", "the-password")


def test_each_service_is_started_as_its_own_principal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = Config.from_env({}, repo=tmp_path)
    monkeypatch.setenv("KAFKA_USERNAME", "admin")  # a shell's leftovers must not leak in
    monkeypatch.setenv("KAFKA_PASSWORD", "x")

    envs = {name: service_env(cfg, name, postgres=False) for name in ("intake", "claims")}

    assert envs["intake"]["KAFKA_CREDENTIALS_FILE"] == str(credentials_file(cfg, "intake"))
    assert envs["claims"]["KAFKA_CREDENTIALS_FILE"] == str(credentials_file(cfg, "claims"))
    assert all(e["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT" for e in envs.values())
    assert not any("KAFKA_USERNAME" in e or "KAFKA_PASSWORD" in e for e in envs.values())


def test_with_kafka_tls_the_listener_and_every_client_file_use_sasl_ssl(tmp_path: Path) -> None:
    cfg = Config.from_env({"KAFKA_TLS": "1"}, repo=tmp_path)
    ca = tmp_path / "ca.pem"

    ensure_credentials(cfg, formatted=False, ca_file=ca)
    properties = render_kafka_properties(cfg, "pw")

    assert "listener.security.protocol.map=BROKER:SASL_SSL,CONTROLLER:SASL_PLAINTEXT" in properties
    text = credentials_file(cfg, "coding").read_text()
    assert "security.protocol=SASL_SSL" in text
    assert f"ssl.truststore.type=PEM\nssl.truststore.location={ca}" in text
    assert service_env(cfg, "coding", postgres=False)["KAFKA_SSL_CAFILE"].endswith("ca.pem")
    assert "export KAFKA_SECURITY_PROTOCOL=SASL_SSL" in env_lines(cfg)
