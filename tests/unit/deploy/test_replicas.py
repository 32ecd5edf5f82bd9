"""stack.py's replicas: how many instances, their ports, and telling instances apart."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from deploy.local.runner.cli import env_lines, status_lines
from deploy.local.runner.lifecycle import check_instance_ports, down, up
from deploy.local.runner.process import running_pid, spawn
from deploy.local.runner.replicas import load_replicas, parse_replicas, save_replicas
from deploy.local.runner.services import service_env
from deploy.local.stack import Config, StackError
from tests.unit.deploy.test_local_stack import free_port, make_cfg

ONE_EACH = {"intake": 1, "assignment": 1, "coding": 1, "claims": 1}


def test_replicas_for_every_service_or_per_service() -> None:
    assert parse_replicas("2", ONE_EACH) == dict.fromkeys(ONE_EACH, 2)
    per_service = parse_replicas("coding=2,claims=3", ONE_EACH)
    assert per_service == {"intake": 1, "assignment": 1, "coding": 2, "claims": 3}
    assert parse_replicas("intake=2", per_service)["claims"] == 3  # the others are kept
    for wrong, says in (("billing=2", "'billing'"), ("0", "1 to 9"), ("two", "takes N")):
        with pytest.raises(StackError, match=says):
            parse_replicas(wrong, ONE_EACH)


def test_the_counts_are_kept_for_the_next_up(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    assert load_replicas(cfg) == ONE_EACH
    save_replicas(cfg, {**ONE_EACH, "claims": 3})
    assert load_replicas(cfg)["claims"] == 3


def test_each_instance_listens_on_the_base_port_plus_100_per_instance(tmp_path: Path) -> None:
    cfg = Config.from_env({}, repo=tmp_path)
    assert cfg.ports("coding") == (8003,)
    assert cfg.ports("coding-2") == (8103,)
    assert cfg.ports("intake-3") == (8201, 2775)  # and its HL7 v2 listener
    assert cfg.instance_port("claims-2") == 8104
    assert cfg.payer_sim_port == 8005  # one payer simulator, beside the first claims
    env = service_env(cfg, "intake-2", postgres=False)
    assert (env["PORT"], env["INTAKE_PORT"], env["HL7_PORT"]) == ("8101", "8101", "2675")
    assert env["KAFKA_CREDENTIALS_FILE"].endswith("intake.properties")  # the service's principal
    check_instance_ports(cfg, ["intake-3", "coding-2", "claims-9"])


def test_an_instance_port_taken_by_another_component_is_refused(tmp_path: Path) -> None:
    cfg = Config.from_env({"INTAKE_PORT": "8001", "CODING_PORT": "8101"}, repo=tmp_path)
    with pytest.raises(StackError, match="port 8101 is configured for both coding and intake-2"):
        check_instance_ports(cfg, ["intake-2"])


def _fake_service(tmp_path: Path, cfg: Config) -> None:
    cfg.python.parent.mkdir(parents=True)
    cfg.python.symlink_to(sys.executable)
    pkg = tmp_path / "services" / "coding"
    pkg.mkdir(parents=True)
    (tmp_path / "services" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(300)\n")


def test_instances_are_told_apart_by_their_port_and_down_stops_them_all(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path, CODING_PORT=str(free_port()))
    _fake_service(tmp_path, cfg)
    save_replicas(cfg, {**ONE_EACH, "coding": 2})
    argv = [str(cfg.python), "-m", "services.coding", "run"]
    pids = {}
    for name in ("coding", "coding-2"):
        env = {**os.environ, **service_env(cfg, name, postgres=False)}
        pids[name] = spawn(cfg, name, argv, env=env)
    for name in pids:
        deadline = time.monotonic() + 10
        while "started" not in cfg.log_file(name).read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    cfg.pid_file("coding").unlink()  # found again by command line and port, not mixed up
    assert running_pid(cfg, "coding") == pids["coding"]
    assert running_pid(cfg, "coding-2") == pids["coding-2"]
    lines = {line.split()[0]: line for line in status_lines(cfg)}
    assert f"running  pid {pids['coding-2']}" in lines["coding-2"]
    port = cfg.instance_port("coding-2")
    assert f"export CODING_URLS=http://127.0.0.1:{cfg.instance_port('coding')}," in "\n".join(
        env_lines(cfg)
    )
    assert f"port {port}" in lines["coding-2"]

    down(cfg, ["coding"])  # the service: every instance

    assert running_pid(cfg, "coding") is None
    assert running_pid(cfg, "coding-2") is None


def test_replicas_without_postgresql_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(
        "DATABASE_URL", raising=False
    )  # a stack's env in the shell says nothing here
    cfg = make_cfg(tmp_path)
    with pytest.raises(StackError, match="replicas share their service's database"):
        up(cfg, ["coding"], {**ONE_EACH, "coding": 2})
    with pytest.raises(StackError, match="--postgres"):
        up(cfg, ["claims-2"])
