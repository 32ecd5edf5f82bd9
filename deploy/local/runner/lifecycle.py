"""Bringing components up in waves, waiting for their health, and taking them down."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from .config import PAYER_SIM, SERVICES, Config, canonical, parse_instance
from .kafka import kafka_healthy, provision_topics_and_acls, start_kafka
from .logs import log_tail
from .postgres import ensure_databases, postgres_healthy, start_postgres
from .process import (
    environ_value,
    exit_code,
    find_processes,
    pid_alive,
    pid_from_file,
    running_pid,
    terminate,
)
from .replicas import load_replicas, present_instances, save_replicas, wanted_instances
from .report import StackError, say
from .services import payer_sim_healthy, service_healthy, start_payer_sim, start_service
from .temporal import ensure_search_attributes, start_temporal, temporal_healthy


def _nothing(cfg: Config) -> None:
    pass


@dataclasses.dataclass(frozen=True)
class Component:
    """How one component starts, when it counts as healthy and what follows its start."""

    what: str  # the process as failures name it: "broker did not come up ..."
    start: Callable[[Config], int]
    healthy: Callable[[Config], bool]
    after_start: Callable[[Config], None] = _nothing


_INFRA: Mapping[str, Component] = MappingProxyType(
    {
        "kafka": Component("broker", start_kafka, kafka_healthy, provision_topics_and_acls),
        "temporal": Component(
            "dev server", start_temporal, temporal_healthy, ensure_search_attributes
        ),
        "postgres": Component("server", start_postgres, postgres_healthy, ensure_databases),
        PAYER_SIM: Component("payer simulator", start_payer_sim, payer_sim_healthy),
    }
)


def component(name: str) -> Component:
    """How `name` runs: an infrastructure part, the payer simulator or a service instance."""
    if name in _INFRA:
        return _INFRA[name]
    return Component(
        "service",
        functools.partial(start_service, name=name),
        functools.partial(service_healthy, name=name),
    )


def healthy(cfg: Config, name: str) -> bool:
    try:
        return component(name).healthy(cfg)
    except (OSError, StackError, ValueError, struct.error, subprocess.SubprocessError):
        return False


def wait_healthy(
    cfg: Config,
    name: str,
    pid: int,
    check: Callable[[], bool],
    what: str,
    timeout: float | None = None,
) -> None:
    """Poll ``check`` until it passes; fail early if the process exits."""
    timeout = cfg.timeout if timeout is None else timeout
    deadline = time.monotonic() + timeout

    def failure(how: str) -> StackError:
        log = cfg.log_file(name)
        return StackError(name, f"{what} {how}; see {cfg.rel(log)}", "\n".join(log_tail(log)))

    while True:
        if not pid_alive(pid):
            code = exit_code(pid)
            how = f" with code {code}" if code is not None else ""
            raise failure(f"exited{how} while starting")
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() >= deadline:
            raise failure(f"did not come up within {timeout:g}s")
        time.sleep(0.25)


def _await(cfg: Config, name: str, pid: int, t0: float) -> None:
    """Wait for one component, finish its setup and say so (runs in a worker thread)."""
    wait_healthy(cfg, name, pid, lambda: healthy(cfg, name), component(name).what)
    component(name).after_start(cfg)
    ports = ",".join(str(p) for p in cfg.ports(name))
    if t0 < 0:
        say(name, f"already running (pid {pid}, port {ports})")
    else:
        say(name, f"up (pid {pid}, port {ports}) in {time.monotonic() - t0:.1f}s")


def _start_wave(cfg: Config, names: Sequence[str]) -> None:
    """Start the components of one wave one after the other, each one's health being
    awaited in its own thread while the next starts (Kafka's first start downloads jars)."""
    fresh: set[str] = set()
    errors: list[StackError] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        waits: dict[str, concurrent.futures.Future[None]] = {}
        for name in names:
            try:
                pid = running_pid(cfg, name)
                t0 = -1.0
                if pid is None:
                    t0 = time.monotonic()
                    pid = component(name).start(cfg)
                    fresh.add(name)
            except StackError as exc:
                errors.append(exc)
                break
            waits[name] = pool.submit(_await, cfg, name, pid, t0)
        for future in waits.values():
            failure = future.exception()
            if isinstance(failure, StackError):
                errors.append(failure)
            elif failure is not None:
                raise failure
    for error in errors:
        # Leave nothing half-started behind: stop what failed.
        if error.component in fresh:
            stop(cfg, error.component, quiet=True)
    if errors:
        for extra in errors[1:]:
            print(f"stack: {extra}", file=sys.stderr)
        raise errors[0]


def up(cfg: Config, names: Sequence[str], replicas: Mapping[str, int] | None = None) -> None:
    """Start `names`; a service name stands for its instances: `replicas` of them (saved for
    the next `up`), else as many as the last `up --replicas` asked for. Instances beyond the
    count are stopped; an instance name (`coding-2`) starts that one alone."""
    if replicas is not None:
        save_replicas(cfg, replicas)
    counts = load_replicas(cfg)
    # Kafka last: its first start downloads jars, while the others boot.
    infra = [n for n in ("temporal", "postgres", "kafka") if n in names]
    services: list[str] = []
    for service in SERVICES:
        if service in names:
            services += wanted_instances(service, counts[service])
            for extra in present_instances(cfg, service)[counts[service] :]:
                stop(cfg, extra)
    services += [canonical(n) for n in names if n not in SERVICES and parse_instance(n)]
    services += [PAYER_SIM] if PAYER_SIM in names else []
    check_instance_ports(cfg, services)
    replicated = any(parse_instance(n) not in (None, (n, 1)) for n in services)
    replicated = replicated or any(counts[s] > 1 for s in SERVICES if s in names)
    on_postgres = "postgres" in names or (replicated and running_pid(cfg, "postgres") is not None)
    if replicated and not on_postgres and not cfg.wants_postgres_from_env(os.environ):
        raise StackError(
            "stack", "replicas share their service's database: run them on PostgreSQL (--postgres)"
        )
    if replicated:
        _same_database_as_running(cfg, services)
    cfg = dataclasses.replace(cfg, services_on_postgres=on_postgres)
    if infra:
        _start_wave(cfg, infra)
    if services:
        _start_wave(cfg, services)


def _same_database_as_running(cfg: Config, instances: Sequence[str]) -> None:
    """A replica must not start on PostgreSQL beside a sibling left running on SQLite."""
    for name in instances:
        pid = running_pid(cfg, name) if parse_instance(name) else None
        database = environ_value(pid, "DATABASE_URL") if pid is not None else None
        if pid is not None and not (database or "").startswith("postgres"):
            raise StackError(
                name, "runs on SQLite, but its replicas need PostgreSQL: stop it first (make down)"
            )


def check_instance_ports(cfg: Config, instances: Sequence[str]) -> None:
    """Replicas' ports (base + 100 per instance) must not be another component's."""
    used: dict[int, str] = {}
    for name in ("kafka", "temporal", "postgres", PAYER_SIM, *SERVICES, *instances):
        for port in cfg.ports(name):
            if used.setdefault(port, name) != name:
                raise StackError(
                    name, f"port {port} is configured for both {used[port]} and {name}"
                )


def stop(cfg: Config, name: str, quiet: bool = False) -> bool:
    """Stop every process of the component; True if something was running."""
    pids = set(find_processes(cfg, name))
    pid = pid_from_file(cfg, name)
    if pid is not None:
        pids.add(pid)
    cfg.pid_file(name).unlink(missing_ok=True)
    if not pids:
        return False
    grace = {"kafka": 30.0, "postgres": 30.0}.get(name, 15.0)
    # PostgreSQL: SIGINT is "fast shutdown" (SIGTERM would wait for clients to disconnect).
    first = signal.SIGINT if name == "postgres" else signal.SIGTERM
    t0 = time.monotonic()
    stubborn = terminate(sorted(pids), grace, first)
    if not quiet:
        how = " (killed)" if stubborn else ""
        pid_list = ",".join(str(p) for p in sorted(pids))
        say(name, f"stopped pid {pid_list} in {time.monotonic() - t0:.1f}s{how}")
    return True


def down(cfg: Config, names: Sequence[str]) -> None:
    """Stop `names`; a service name stands for all its instances."""
    order: list[str] = []
    for service in SERVICES:
        if service in names:
            order += present_instances(cfg, service)
    order += [canonical(n) for n in names if n not in SERVICES and parse_instance(n)]
    order += [n for n in (PAYER_SIM, "kafka", "temporal", "postgres") if n in names]
    for name in order:
        if not stop(cfg, name):
            say(name, "not running")
