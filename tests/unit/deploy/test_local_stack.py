"""Unit tests of deploy/local (stack.py, runner/) that start nothing but throwaway processes."""

from __future__ import annotations

import io
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deploy.local import stack
from deploy.local.runner.cli import env_lines, status_lines
from deploy.local.runner.kafka import kafka_api_versions, kafka_cluster_id, render_kafka_properties
from deploy.local.runner.lifecycle import stop, wait_healthy
from deploy.local.runner.logs import show_all_logs
from deploy.local.runner.net import check_ports_free
from deploy.local.runner.process import matches, pid_alive, running_pid, spawn, terminate
from deploy.local.runner.temporal import missing_search_attributes, temporal_argv
from deploy.local.stack import SEARCH_ATTRIBUTES, Config, StackError


def make_cfg(tmp_path: Path, **env: str) -> Config:
    cfg = Config.from_env(env, repo=tmp_path)
    cfg.run_dir.mkdir(parents=True)
    cfg.log_dir.mkdir(parents=True)
    return cfg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_search_attributes_are_the_custom_ones() -> None:
    assert dict(SEARCH_ATTRIBUTES) == {
        "HospitalId": "Keyword",
        "VendorPool": "Keyword",
        "CodingStatus": "Keyword",
        "SlaDueAt": "Datetime",
        "QueryPending": "Bool",
        "QueryOpenSince": "Datetime",
        "OnHold": "Bool",
        "Escalated": "Bool",
        "EscalationStatus": "Keyword",
        "ClaimStatus": "Keyword",
        "ClaimPayer": "Keyword",
        "ClaimVersion": "Int",
        "ClaimCharge": "Double",
        "ClaimPaid": "Double",
        "DenialCause": "Keyword",
    }


def test_defaults_and_addresses(tmp_path: Path) -> None:
    cfg = Config.from_env({}, repo=tmp_path)
    assert cfg.ports("kafka") == (9092, 9093)
    assert cfg.ports("temporal") == (7233, 8233)
    assert cfg.ports("postgres") == (55432,)
    assert [cfg.ports(s)[0] for s in stack.SERVICES] == [8001, 8002, 8003, 8004]
    assert cfg.ports("intake") == (8001, 2575)  # HTTP and the HL7 v2 MLLP listener
    assert cfg.kafka_bootstrap == "127.0.0.1:9092"
    assert cfg.temporal_address == "127.0.0.1:7233"
    assert cfg.database_url == "postgresql+psycopg://chartflow@127.0.0.1:55432/chartflow"
    assert cfg.var == tmp_path / "var"
    assert cfg.pid_file("kafka") == tmp_path / "var/run/kafka.pid"
    assert cfg.log_file("intake") == tmp_path / "var/log/intake.log"


def test_ports_come_from_the_environment(tmp_path: Path) -> None:
    cfg = Config.from_env({"KAFKA_PORT": "19092", "PG_PORT": "15432"}, repo=tmp_path)
    assert cfg.kafka_bootstrap == "127.0.0.1:19092"
    assert cfg.database_url.endswith("@127.0.0.1:15432/chartflow")


def test_the_payer_simulator_listens_next_to_claims_unless_told(tmp_path: Path) -> None:
    assert Config.from_env({}, repo=tmp_path).ports("payer-sim") == (8005,)
    assert Config.from_env({"CLAIMS_PORT": "11004"}, repo=tmp_path).ports("payer-sim") == (11005,)
    told = Config.from_env({"PAYER_SIM_PORT": "18999"}, repo=tmp_path)
    assert told.ports("payer-sim") == (18999,)
    serve = [str(told.python), "-m", "services.claims.payer_sim", "serve", "--port", "18999"]
    assert matches(told, "payer-sim", serve)
    assert not matches(Config.from_env({}, repo=tmp_path), "payer-sim", serve)  # another port
    lines = status_lines(make_cfg(tmp_path, PAYER_SIM_PORT="18999"))
    assert lines[-1].split()[:2] == ["payer-sim", "stopped"] and "port 18999" in lines[-1]


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
def test_bad_port_is_a_clear_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(StackError, match="KAFKA_PORT must be a TCP port"):
        Config.from_env({"KAFKA_PORT": value}, repo=tmp_path)


def test_two_components_on_one_port_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="port 7233 is configured for both"):
        Config.from_env({"INTAKE_PORT": "7233"}, repo=tmp_path)


def test_database_url_env_selects_postgres_only_on_our_port(tmp_path: Path) -> None:
    cfg = Config.from_env({}, repo=tmp_path)
    ours = "postgresql+psycopg://chartflow@127.0.0.1:55432/chartflow"
    assert cfg.wants_postgres_from_env({"DATABASE_URL": ours})
    assert not cfg.wants_postgres_from_env({"DATABASE_URL": ours.replace("55432", "5432")})
    assert not cfg.wants_postgres_from_env({"DATABASE_URL": "sqlite:///x.db"})
    assert not cfg.wants_postgres_from_env({})


def test_kafka_properties_rendered_from_the_template(tmp_path: Path) -> None:
    cfg = Config.from_env({"KAFKA_PORT": "19092", "KAFKA_CONTROLLER_PORT": "19093"}, repo=tmp_path)
    text = render_kafka_properties(cfg, "broker-secret")
    props = dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert "@" not in "".join(props.values()).replace("1@127.0.0.1", "")
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == ("BROKER://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093")
    assert props["listener.security.protocol.map"] == (
        "BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    )
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert (
        'username="broker" password="broker-secret"'
        in props["listener.name.broker.scram-sha-512.sasl.jaas.config"]
    )
    assert 'user_broker="broker-secret"' in props["listener.name.controller.plain.sasl.jaas.config"]
    assert props["authorizer.class.name"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert props["super.users"] == "User:broker;User:admin"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["log.dirs"] == str(tmp_path / "var/kafka/data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "3"


def test_kafka_cluster_id_looks_like_a_kafka_uuid() -> None:
    cid = kafka_cluster_id()
    assert len(cid) == 22
    assert set(cid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_temporal_command_line(tmp_path: Path) -> None:
    argv = temporal_argv(Config.from_env({}, repo=tmp_path))
    joined = " ".join(argv)
    assert "server start-dev --ip 127.0.0.1 --port 7233 --ui-port 8233" in joined
    assert f"--db-filename {tmp_path}/var/temporal/temporal.db" in joined
    assert "--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal" in joined
    assert "history.transferProcessorMaxPollRPS=1000" in joined
    for key, kind in SEARCH_ATTRIBUTES.items():
        assert f"--search-attribute {key}={kind}" in joined


def test_missing_search_attributes() -> None:
    have = {"HospitalId": "INDEXED_VALUE_TYPE_KEYWORD", "SlaDueAt": "INDEXED_VALUE_TYPE_DATETIME"}
    assert missing_search_attributes(have) == {
        "VendorPool": "Keyword",
        "CodingStatus": "Keyword",
        "QueryPending": "Bool",
        "QueryOpenSince": "Datetime",
        "OnHold": "Bool",
        "Escalated": "Bool",
        "EscalationStatus": "Keyword",
        "ClaimStatus": "Keyword",
        "ClaimPayer": "Keyword",
        "ClaimVersion": "Int",
        "ClaimCharge": "Double",
        "ClaimPaid": "Double",
        "DenialCause": "Keyword",
    }
    with pytest.raises(StackError, match="HospitalId is registered as"):
        missing_search_attributes({"HospitalId": "INDEXED_VALUE_TYPE_TEXT"})


def test_process_matching(tmp_path: Path) -> None:
    cfg = Config.from_env({}, repo=tmp_path)
    kafka = ["java", "-cp", "x/*", "kafka.Kafka", str(cfg.kafka_properties)]
    assert matches(cfg, "kafka", kafka)
    assert not matches(cfg, "kafka", ["java", "kafka.Kafka", "/elsewhere/server.properties"])
    assert matches(cfg, "temporal", temporal_argv(cfg))
    assert matches(cfg, "postgres", ["/usr/lib/postgresql/15/bin/postgres", "-D", str(cfg.pg_data)])
    intake = [str(cfg.python), "-m", "services.intake", "run"]
    assert matches(cfg, "intake", intake)
    assert not matches(cfg, "claims", intake)
    assert not matches(cfg, "intake", ["/usr/bin/python3", "-m", "services.intake", "run"])


def test_env_lines_without_postgres(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    assert env_lines(cfg) == [
        "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092",
        "export KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT",
        f"export KAFKA_CREDENTIALS_DIR={tmp_path}/var/kafka/credentials",
        "export TEMPORAL_ADDRESS=127.0.0.1:7233",
    ]


def test_status_of_an_empty_stack(tmp_path: Path) -> None:
    lines = status_lines(make_cfg(tmp_path))
    assert [line.split()[:2] for line in lines] == [[n, "stopped"] for n in stack.COMPONENTS]
    assert "port 9092,9093" in lines[0]


def test_spawn_status_and_stop_kill_the_whole_group(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path, INTAKE_PORT=str(free_port()))
    cfg.python.parent.mkdir(parents=True)
    cfg.python.symlink_to(sys.executable)
    script = tmp_path / "fake.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "print('fake started', flush=True)\n"
        "subprocess.Popen(['sleep', '300'])\n"
        "time.sleep(300)\n"
    )
    # Named like a service so that matches() recognises it: python -m services.intake run
    pkg = tmp_path / "services" / "intake"
    pkg.mkdir(parents=True)
    (tmp_path / "services" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(script.read_text())
    pid = spawn(cfg, "intake", [str(cfg.python), "-m", "services.intake", "run"])
    deadline = time.monotonic() + 10
    while "fake started" not in cfg.log_file("intake").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert running_pid(cfg, "intake") == pid
    assert cfg.pid_file("intake").read_text().strip() == str(pid)
    line = next(line for line in status_lines(cfg) if line.startswith("intake"))
    assert f"running  pid {pid}" in line
    grandchildren = subprocess.run(
        ["pgrep", "-g", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(grandchildren) == 2
    assert stop(cfg, "intake", quiet=True)
    assert not cfg.pid_file("intake").exists()
    assert running_pid(cfg, "intake") is None
    assert all(not pid_alive(int(p)) for p in grandchildren)


def test_wait_healthy_reports_an_exit_with_the_log(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    pid = spawn(cfg, "claims", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"])
    with pytest.raises(StackError) as err:
        wait_healthy(cfg, "claims", pid, lambda: False, "service", timeout=10)
    assert "exited with code 3" in err.value.message
    assert "var/log/claims.log" in err.value.message
    assert "boom" in err.value.detail


def test_wait_healthy_times_out(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    pid = spawn(cfg, "coding", [sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(StackError, match=r"did not come up within 0.5s; see var/log/coding"):
            wait_healthy(cfg, "coding", pid, lambda: False, "service", timeout=0.5)
    finally:
        terminate([pid], grace=5)


def test_port_in_use_names_the_owner(tmp_path: Path) -> None:
    port = free_port()
    cfg = make_cfg(tmp_path, CLAIMS_PORT=str(port))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        with pytest.raises(StackError, match=rf"port {port} is already in use by pid \d+"):
            check_ports_free(cfg, "claims")
    check_ports_free(cfg, "claims")


def test_kafka_api_versions_round_trip_against_a_fake_broker() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        seen: list[tuple[int, int, int]] = []

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                (size,) = struct.unpack(">i", conn.recv(4))
                request = conn.recv(size)
                api_key, version, correlation = struct.unpack(">hhi", request[:8])
                seen.append((api_key, version, correlation))
                body = struct.pack(">ihi", correlation, 0, 0)
                conn.sendall(struct.pack(">i", len(body)) + body)

        thread = threading.Thread(target=answer)
        thread.start()
        assert kafka_api_versions(port)
        thread.join(5)
    assert seen and seen[0][:2] == (18, 0)


def test_main_reports_errors_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_PORT", "not-a-port")
    assert stack.main(["status"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "stack: config: TEMPORAL_PORT must be a TCP port number (1-65535), got 'not-a-port'"
    ]


def test_unknown_component_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    assert stack.main(["down", "--only", "kafak"]) == 1
    assert "unknown component 'kafak'" in capsys.readouterr().err


def test_script_runs_standalone_with_only_the_stdlib() -> None:
    script = Path(stack.__file__)
    out = subprocess.run(
        [sys.executable, "-I", str(script), "--help"], capture_output=True, text=True, check=True
    )
    assert "up" in out.stdout and "down" in out.stdout


def test_logs_without_a_name_shows_every_log(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    with pytest.raises(StackError, match="no logs yet"):
        show_all_logs(cfg, 5, io.StringIO())
    cfg.log_file("kafka").write_text("one\ntwo\nthree\n")
    cfg.log_file("claims").write_text("claims line\n")
    out = io.StringIO()
    show_all_logs(cfg, 2, out)
    assert out.getvalue().splitlines() == [
        "==> var/log/kafka.log <==",
        "two",
        "three",
        "==> var/log/claims.log <==",
        "claims line",
    ]
