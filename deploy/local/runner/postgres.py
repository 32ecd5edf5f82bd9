"""PostgreSQL: the OS's server running our own cluster in var/postgres as the postgres user."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
from pathlib import Path

from .config import PG_ROLE, SERVICES, Config
from .net import check_ports_free, port_open
from .process import spawn
from .report import StackError, say
from .tools import need_tool, run

PG_DATABASES: tuple[str, ...] = ("chartflow",) + tuple(f"chartflow_{s}" for s in SERVICES)
PG_OS_USER = "postgres"
PG_TOOLS = ("initdb", "postgres", "pg_isready", "psql")


def find_pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin with every tool we use."""
    candidates = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if all((bindir / tool).exists() for tool in PG_TOOLS) and bindir.parent.name.isdigit():
            candidates.append((int(bindir.parent.name), bindir))
    return max(candidates)[1] if candidates else None


def install_postgres() -> Path:
    """Install the OS packages, without letting Debian create or start its own cluster."""
    if os.geteuid() != 0:
        raise StackError(
            "postgres", "PostgreSQL is not installed; run as root or apt-get install postgresql"
        )
    need_tool("postgres", "apt-get", "install PostgreSQL 15+ by hand")
    say("postgres", "installing PostgreSQL from the OS packages (first run only)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("postgres", ["apt-get", "update"], what="apt-get update", timeout=600, env=env)
    apt_install = ["apt-get", "install", "-y", "--no-install-recommends"]
    run(
        "postgres",
        [*apt_install, "postgresql-common"],
        what="apt-get install postgresql-common",
        timeout=600,
        env=env,
    )
    conf = Path("/etc/postgresql-common/createcluster.conf")
    if conf.exists():
        text = conf.read_text()
        new = re.sub(
            r"^#?\s*create_main_cluster\s*=.*$",
            "create_main_cluster = false",
            text,
            count=1,
            flags=re.M,
        )
        if new != text:
            conf.write_text(new)
    run(
        "postgres",
        [*apt_install, "postgresql"],
        what="apt-get install postgresql",
        timeout=900,
        env=env,
    )
    bindir = find_pg_bin()
    if bindir is None:
        raise StackError("postgres", "apt-get installed postgresql but no initdb/postgres found")
    return bindir


def _make_traversable(path: Path) -> None:
    """Let the postgres OS user reach var/postgres: o+x on every ancestor that lacks it."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            say("postgres", f"chmod o+x {parent} (so the postgres user can reach its data)")
            parent.chmod(mode | 0o001)


def prepare_postgres(cfg: Config) -> Path:
    bindir = find_pg_bin() or install_postgres()
    try:
        pw = pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise StackError("postgres", f"no `{PG_OS_USER}` OS user (reinstall postgresql)") from None
    if os.geteuid() != 0 and os.geteuid() != pw.pw_uid:
        raise StackError("postgres", f"run as root or as `{PG_OS_USER}` to manage the cluster")
    cfg.pg_dir.mkdir(parents=True, exist_ok=True)
    _make_traversable(cfg.pg_dir)
    for directory, mode in ((cfg.pg_dir, 0o755), (cfg.pg_socket_dir, 0o755), (cfg.pg_data, 0o700)):
        directory.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(directory, pw.pw_uid, pw.pw_gid)
        directory.chmod(mode)
    if not (cfg.pg_data / "PG_VERSION").exists():
        say("postgres", f"initialising a cluster in {cfg.rel(cfg.pg_data)}")
        run(
            "postgres",
            [
                str(bindir / "initdb"),
                "-D",
                str(cfg.pg_data),
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-locale",
                "--auth-local=peer",
                "--auth-host=trust",
                "--no-instructions",
            ],
            what="initdb",
            user=PG_OS_USER,
            cwd=cfg.pg_dir,
            timeout=300,
        )
        hba = cfg.pg_data / "pg_hba.conf"
        hba.write_text(
            "# Written by deploy/local/stack.py: local development only.\n"
            "# TYPE  DATABASE  USER  ADDRESS        METHOD\n"
            "local   all       all                  peer\n"
            "host    all       all   127.0.0.1/32   trust\n"
        )
        if os.geteuid() == 0:
            os.chown(hba, pw.pw_uid, pw.pw_gid)
    return bindir


def postgres_argv(cfg: Config, bindir: Path) -> list[str]:
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(cfg.pg_port),
        "unix_socket_directories": str(cfg.pg_socket_dir),
        "max_connections": "200",
        "logging_collector": "off",
        "log_line_prefix": "%m [%p] %q%u@%d ",
    }
    argv = [str(bindir / "postgres"), "-D", str(cfg.pg_data)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    return argv


def _as_superuser(cfg: Config) -> list[str]:
    """Client options that reach the cluster's `postgres` database over TCP."""
    return ["-h", "127.0.0.1", "-p", str(cfg.pg_port), "-U", "postgres", "-d", "postgres"]


def postgres_healthy(cfg: Config) -> bool:
    bindir = find_pg_bin()
    if bindir is None or not port_open(cfg.pg_port):
        return False
    proc = subprocess.run(
        [str(bindir / "pg_isready"), "-q", *_as_superuser(cfg), "-t", "2"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=10,
    )
    return proc.returncode == 0


def _psql(cfg: Config, bindir: Path, sql: str) -> str:
    argv = [str(bindir / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"]
    return run("postgres", [*argv, *_as_superuser(cfg), "-c", sql], what="psql", timeout=60)


def ensure_databases(cfg: Config) -> None:
    bindir = find_pg_bin()
    assert bindir is not None
    if _psql(cfg, bindir, f"SELECT 1 FROM pg_roles WHERE rolname = '{PG_ROLE}'").strip() != "1":
        _psql(cfg, bindir, f"CREATE ROLE {PG_ROLE} LOGIN SUPERUSER")
    existing = set(_psql(cfg, bindir, "SELECT datname FROM pg_database").split())
    for db in PG_DATABASES:
        if db not in existing:
            _psql(cfg, bindir, f"CREATE DATABASE {db} OWNER {PG_ROLE}")


def start_postgres(cfg: Config) -> int:
    check_ports_free(cfg, "postgres")
    bindir = prepare_postgres(cfg)
    stale = cfg.pg_data / "postmaster.pid"
    if stale.exists():
        # No postgres of ours runs (checked by the caller): a crash left this behind.
        stale.unlink()
    return spawn(cfg, "postgres", postgres_argv(cfg, bindir), cwd=cfg.pg_dir, user=PG_OS_USER)
