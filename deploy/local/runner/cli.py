"""The command line: up, down, status, logs and env (see deploy/local/README.md)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import os
import shlex
import sys
from collections.abc import Iterator, Sequence

from .config import COMPONENTS, PAYER_SIM, SERVICES, Config, canonical, parse_instance
from .kafka_tls import ca_file
from .lifecycle import down, up
from .logs import show_all_logs, show_logs
from .process import running_pid
from .replicas import load_replicas, parse_replicas, present_instances, wanted_instances
from .report import StackError, say


def listed(cfg: Config) -> list[str]:
    """Every component, a service as each of its instances (wanted or present)."""
    names = []
    counts = load_replicas(cfg)
    for name in COMPONENTS:
        if name in SERVICES:
            wanted = wanted_instances(name, counts[name])
            present = {*wanted, *present_instances(cfg, name)}
            names += sorted(present, key=lambda n: parse_instance(n) or (n, 1))
        else:
            names.append(name)
    return names


def status_lines(cfg: Config) -> list[str]:
    lines = []
    for name in listed(cfg):
        pid = running_pid(cfg, name)
        state = "running" if pid is not None else "stopped"
        ports = ",".join(str(p) for p in cfg.ports(name))
        lines.append(f"{name:<13} {state:<8} pid {pid if pid else '-':<8} port {ports}")
    return lines


def env_lines(cfg: Config) -> list[str]:
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
        "KAFKA_SECURITY_PROTOCOL": cfg.kafka_protocol,
        # One client file per principal (admin, intake, ...): tests and operators pick theirs.
        "KAFKA_CREDENTIALS_DIR": str(cfg.kafka_credentials),
        "TEMPORAL_ADDRESS": cfg.temporal_address,
    }
    if cfg.kafka_tls:
        values["KAFKA_SSL_CAFILE"] = str(ca_file(cfg))
    if running_pid(cfg, "postgres") is not None:
        values["DATABASE_URL"] = cfg.database_url
    for service in SERVICES:  # with replicas: every running instance, e.g. CODING_URLS
        running = [n for n in present_instances(cfg, service) if running_pid(cfg, n)]
        if len(running) > 1:
            urls = ",".join(f"http://127.0.0.1:{cfg.instance_port(n)}" for n in running)
            values[f"{service.upper()}_URLS"] = urls
    return [f"export {key}={shlex.quote(value)}" for key, value in values.items()]


@contextlib.contextmanager
def stack_lock(cfg: Config) -> Iterator[None]:
    """Serialise concurrent up/down runs on one var/ directory."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with open(cfg.run_dir / "stack.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("stack", "another stack.py up/down is running; waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _selected(only: Sequence[str] | None) -> list[str]:
    names: list[str] = []
    for item in only or []:
        for name in item.split(","):
            name = name.strip()
            if name not in COMPONENTS and parse_instance(name) is None:
                known = ", ".join(COMPONENTS)
                raise StackError(
                    "stack", f"unknown component {name!r} (one of {known}, or e.g. coding-2)"
                )
            if name not in names:
                names.append(name)
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stack.py", description="Run Chartflow's Kafka, Temporal, PostgreSQL and services."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start what is not running and wait for health")
    p_up.add_argument("--postgres", action="store_true", help="also PostgreSQL")
    p_up.add_argument(
        "--services", action="store_true", help="also the four services and the payer simulator"
    )
    p_up.add_argument("--only", action="append", metavar="NAME", help="just these components")
    p_up.add_argument(
        "--replicas",
        metavar="N|NAME=N,...",
        help="instances of every service (N) or of those named (coding=2,claims=3); kept for "
        "the next up; implies --services",
    )
    p_up.add_argument("--timeout", type=float, help="seconds to wait for each component")
    p_down = sub.add_parser("down", help="stop every process of the stack")
    p_down.add_argument("--only", action="append", metavar="NAME", help="just these components")
    sub.add_parser("status", help="one line per component")
    p_logs = sub.add_parser("logs", help="tail a component's log (every log without NAME)")
    p_logs.add_argument("name", nargs="?", help=f"one of {', '.join(COMPONENTS)}, or coding-2...")
    p_logs.add_argument("-n", "--lines", type=int, default=50)
    p_logs.add_argument("-f", "--follow", action="store_true")
    sub.add_parser("env", help="print export lines of the addresses")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = Config.from_env()
        if args.command == "up" and args.timeout:
            cfg = dataclasses.replace(cfg, timeout=args.timeout)
        for directory in (cfg.run_dir, cfg.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if args.command == "up":
            names = _selected(args.only)
            replicas = None
            if args.replicas is not None:
                replicas = parse_replicas(args.replicas, load_replicas(cfg))
            if not names:
                names = ["kafka", "temporal"]
                if args.postgres or cfg.wants_postgres_from_env(os.environ):
                    names.append("postgres")
                if args.services or replicas is not None:
                    names += [*SERVICES, PAYER_SIM]
            with stack_lock(cfg):
                up(cfg, names, replicas)
        elif args.command == "down":
            names = _selected(args.only) or list(COMPONENTS)
            with stack_lock(cfg):
                down(cfg, names)
        elif args.command == "status":
            print("\n".join(status_lines(cfg)))
        elif args.command == "env":
            print("\n".join(env_lines(cfg)))
        elif args.command == "logs":
            if args.name:
                if args.name not in COMPONENTS and parse_instance(args.name) is None:
                    raise StackError("stack", f"no component {args.name!r}")
                show_logs(cfg, canonical(args.name), args.lines, args.follow, sys.stdout)
            else:
                show_all_logs(cfg, args.lines, sys.stdout)
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        if exc.detail:
            print(f"--- last lines ---\n{exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
