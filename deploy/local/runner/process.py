"""The stack's processes: finding them by pid file or command line, starting, stopping."""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .config import PAYER_SIM, REPLICA_PORT_STEP, Config, instance_name, parse_instance

# Processes this invocation started, so that their exit status is seen (and they are reaped).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _proc_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name is in parentheses and may contain anything, so split after the last ')'.
    return stat[stat.rfind(")") + 2 :].split()


def _proc_state(pid: int) -> str | None:
    fields = _proc_fields(pid)
    return fields[0] if fields else None


def group_members(pgid: int) -> list[int]:
    """Every live process of the process group (the grandchildren a leader started too)."""
    return [
        pid
        for pid in all_pids()
        if (fields := _proc_fields(pid)) and fields[2] == str(pgid) and pid_alive(pid)
    ]


def pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (reaping it if it is our child)."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        return False
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X", "x")


def exit_code(pid: int) -> int | None:
    """The exit code of a process this invocation started, once it has exited."""
    child = _CHILDREN.get(pid)
    return child.returncode if child is not None else None


def all_pids() -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            yield int(entry.name)


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def matches(cfg: Config, name: str, argv: Sequence[str]) -> bool:
    """Whether a command line is this stack's process for the component ``name``."""
    if not argv:
        return False
    if name == "kafka":
        return "kafka.Kafka" in argv and str(cfg.kafka_properties) in argv
    if name == "temporal":
        return "start-dev" in argv and str(cfg.temporal_db) in argv
    if name == "postgres":
        return Path(argv[0]).name == "postgres" and str(cfg.pg_data) in argv
    if name == PAYER_SIM:
        return (
            argv[0] == str(cfg.python)
            and argv[1:4] == ["-m", "services.claims.payer_sim", "serve"]
            and str(cfg.payer_sim_port) in argv
        )
    if (instance := parse_instance(name)) is not None:  # any instance of the service
        return (
            argv[0] == str(cfg.python)
            and len(argv) >= 4
            and argv[1] == "-m"
            and argv[2].rsplit(".", 1)[-1] == instance[0]
            and argv[3] == "run"
        )
    return False


def environ_value(pid: int, name: str) -> str | None:
    """One variable of the environment a process of ours was started with."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = f"{name}=".encode()
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def listening_port(pid: int) -> int | None:
    """The `PORT` a service process was started with (the runner gives each instance its own)."""
    value = environ_value(pid, "PORT")
    return int(value) if value is not None and value.isdigit() else None


def _is_instance(cfg: Config, name: str, pid: int) -> bool:
    """For a service instance: whether the process is that instance (by its port)."""
    instance = parse_instance(name)
    if instance is None:
        return True
    port = listening_port(pid)
    if port is None:  # started without PORT: only the first instance can be it
        return instance[1] == 1
    return port == cfg.instance_port(name)


def _is_ours(cfg: Config, name: str, pid: int) -> bool:
    return pid_alive(pid) and matches(cfg, name, cmdline(pid)) and _is_instance(cfg, name, pid)


def find_processes(cfg: Config, name: str) -> list[int]:
    """Every live process of this stack for ``name`` (found by command line, not pid file)."""
    me = os.getpid()
    return sorted(
        pid
        for pid in all_pids()
        if pid != me
        and matches(cfg, name, cmdline(pid))
        and pid_alive(pid)
        and _is_instance(cfg, name, pid)
    )


def service_instances(cfg: Config, service: str) -> dict[str, list[int]]:
    """Every running instance of the service, found by command line: name -> pids."""
    found: dict[str, list[int]] = {}
    me = os.getpid()
    for pid in all_pids():
        if pid == me or not matches(cfg, service, cmdline(pid)) or not pid_alive(pid):
            continue
        port = listening_port(pid)
        number = 1
        if port is not None:
            offset = port - cfg.service_ports[service]
            if offset >= 0 and offset % REPLICA_PORT_STEP == 0:
                number = offset // REPLICA_PORT_STEP + 1
        found.setdefault(instance_name(service, number), []).append(pid)
    return found


def pid_from_file(cfg: Config, name: str) -> int | None:
    """The pid in var/run/NAME.pid when that process is still the component's."""
    try:
        text = cfg.pid_file(name).read_text().strip()
    except OSError:
        return None
    pid = int(text) if text.isdigit() else None
    return pid if pid is not None and _is_ours(cfg, name, pid) else None


def running_pid(cfg: Config, name: str) -> int | None:
    """The pid of the running component, from its pid file or, failing that, by search."""
    pid = pid_from_file(cfg, name)
    if pid is not None:
        return pid
    found = find_processes(cfg, name)
    if found:
        cfg.pid_file(name).write_text(f"{found[0]}\n")
        return found[0]
    return None


def _signal(pid: int, sig: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group and pid != os.getpgid(0):
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def terminate(pids: Sequence[int], grace: float, first: int = signal.SIGTERM) -> list[int]:
    """Stop processes: ``first`` signal (to the process group when they lead one), wait
    ``grace`` seconds, then SIGKILL the group. Returns the pids that were still alive at the
    SIGKILL stage."""
    leaders = {pid for pid in pids if _is_group_leader(pid)}
    # Wait for the whole groups, not just their leaders: a grandchild outlives a killed leader.
    watched = sorted({*pids, *(member for leader in leaders for member in group_members(leader))})
    for pid in pids:
        # PostgreSQL's postmaster stops its own children; only it gets the first signal.
        _signal(pid, first, group=pid in leaders and first == signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in watched):
        time.sleep(0.1)
    stubborn = [p for p in pids if pid_alive(p)]
    for pid in watched:
        # Also sweeps children left in the group after the leader exited.
        _signal(pid, signal.SIGKILL, group=pid in leaders)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(p) for p in watched):
        time.sleep(0.05)
    for pid in pids:
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
    return stubborn


def as_user(user: str | None) -> dict[str, object]:
    """The subprocess arguments that run a command as ``user`` (none for the current one)."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def _rotate(path: Path) -> None:
    if path.exists() and path.stat().st_size > 0:
        path.replace(path.with_name(path.name + ".1"))


def spawn(
    cfg: Config,
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start ``argv`` in its own session, output to var/log/NAME.log, pid in var/run."""
    log = cfg.log_file(name)
    _rotate(log)
    with open(log, "ab") as out:
        out.write(f"### {time.strftime('%Y-%m-%dT%H:%M:%S')} {shlex.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(  # type: ignore[call-overload]
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(cwd or cfg.repo),
            env=dict(env if env is not None else os.environ),
            start_new_session=True,
            **as_user(user),
        )
    _CHILDREN[proc.pid] = proc
    cfg.pid_file(name).write_text(f"{proc.pid}\n")
    return int(proc.pid)
