"""The platform under test: this checkout's stack (started as `make demo` starts it) or given
addresses of one already running."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from deploy.demo.driver import Endpoints
from deploy.local.runner.process import running_pid
from deploy.local.stack import SERVICES, Config
from shared.settings import REPO_ROOT, ChartflowSettings

CEILING_DATABASE = "bench_ceiling"


class PlatformError(RuntimeError):
    pass


@dataclass(frozen=True)
class Platform:
    endpoints: Endpoints
    temporal_address: str
    database_url: str | None  # the services' base URL; None: SQLite files under `var`
    var: Path
    local: Config | None  # this checkout's stack, whose processes /proc can show

    @property
    def database(self) -> str:
        return "PostgreSQL" if self.database_url else "SQLite"

    def ceiling_database_url(self) -> str:
        """A database of the benchmark's own next to the services' (same server or directory)."""
        settings = ChartflowSettings(
            service_name=CEILING_DATABASE, database_url=self.database_url, chartflow_var=self.var
        )
        return settings.service_database_url()


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def local_platform(postgres: bool, admin_token: str) -> Platform:
    """Start what of this checkout's stack is not running (`stack.py up --services`)."""
    argv = [sys.executable, str(REPO_ROOT / "deploy/local/stack.py"), "up", "--services"]
    if postgres:
        argv.append("--postgres")
    if subprocess.run(argv, cwd=REPO_ROOT).returncode != 0:
        raise PlatformError("the stack did not come up (see the lines above)")
    cfg = Config.from_env()
    intake = running_pid(cfg, "intake")
    if intake is None:
        raise PlatformError("intake is not running after `stack.py up --services`")
    # The services' own settings, as they were started (they may predate this run).
    env = _environment(intake)
    database_url = env.get("DATABASE_URL") or None
    if postgres and not database_url:
        raise PlatformError(
            "the services already run on SQLite: `make down` first to run them on PostgreSQL"
        )
    ports = {name: cfg.service_ports[name] for name in SERVICES}
    return Platform(
        endpoints=Endpoints.local(ports, admin_token),
        temporal_address=cfg.temporal_address,
        database_url=database_url,
        var=Path(env.get("CHARTFLOW_VAR") or cfg.var),
        local=cfg,
    )


def given_platform(
    urls: dict[str, str],
    temporal_address: str,
    database_url: str | None,
    var: Path,
    admin_token: str,
) -> Platform:
    """A stack already running elsewhere, by its addresses."""
    missing = [name for name in SERVICES if not urls.get(name)]
    if missing:
        raise PlatformError(f"give every service's URL: missing {', '.join(missing)}")
    return Platform(
        endpoints=Endpoints(
            **{name: urls[name].rstrip("/") for name in SERVICES}, admin_token=admin_token
        ),
        temporal_address=temporal_address,
        database_url=database_url,
        var=var,
        local=None,
    )
