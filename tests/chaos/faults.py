"""What a chaos round kills (SIGKILL) and restarts: a service, all four, the broker, Temporal.

Services are the round's own processes (`tests.e2e.conftest.Services`). Kafka and Temporal
are deploy/local's processes of this checkout, found through its pid files under `var/run`
(which the runner checks against the process's command line naming this checkout's `var/`),
and started again with `stack.py up --only NAME`, as an operator would: nothing of another
checkout's stack can be touched.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from deploy.local.runner.config import Config
from deploy.local.runner.kafka_tls import ca_file
from deploy.local.runner.process import pid_alive, pid_from_file
from tests.conftest import REPO
from tests.e2e.conftest import SERVICES, Services
from tests.stack import Stack

INFRA = ("kafka", "temporal")


@dataclass(frozen=True)
class Fault:
    name: str
    targets: tuple[str, ...]  # service names, or one of INFRA
    # The kill waits until some encounter is past this stage (tests.chaos.observer.STAGES), so
    # the target is at work: claims is billing, coding has tasks, Temporal runs workflows.
    busy_after: str


FAULTS: dict[str, Fault] = {
    "intake": Fault("intake", ("intake",), "received"),
    "assignment": Fault("assignment", ("assignment",), "routed"),
    "coding": Fault("coding", ("coding",), "coded"),
    "claims": Fault("claims", ("claims",), "billed"),
    "kafka": Fault("kafka", ("kafka",), "billed"),
    "temporal": Fault("temporal", ("temporal",), "routed"),
    "all-services": Fault("all-services", SERVICES, "billed"),
}


class RunnerStack:
    """deploy/local's Kafka and Temporal of this checkout (ports from the environment)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    @classmethod
    def of(cls, stack: Stack) -> RunnerStack | None:
        """The runner stack `stack` points at, if it is this checkout's and running."""
        cfg = Config.from_env()
        same = stack.kafka == cfg.kafka_bootstrap and stack.temporal == cfg.temporal_address
        if not same or any(pid_from_file(cfg, name) is None for name in INFRA):
            return None
        return cls(cfg)

    def stack(self, postgres: bool) -> Stack:
        """The addresses and Kafka principals of this stack, as the tests' `Stack`."""
        cfg = self.cfg
        return Stack(
            kafka=cfg.kafka_bootstrap,
            temporal=cfg.temporal_address,
            database_url=cfg.database_url if postgres else None,
            kafka_credentials=cfg.kafka_credentials,
            kafka_protocol=cfg.kafka_protocol,
            kafka_ssl_cafile=ca_file(cfg) if cfg.kafka_tls else None,
        )

    def up(self, *args: str) -> None:
        command = [sys.executable, str(REPO / "deploy/local/stack.py"), "up", *args]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"stack.py up {' '.join(args)} failed: {done.stderr[-2000:]}")

    def ensure_up(self) -> None:
        """Start whichever of Kafka and Temporal is not running (a failed restart before)."""
        down = [name for name in INFRA if pid_from_file(self.cfg, name) is None]
        if down:
            self.up("--only", ",".join(down))

    def kill(self, name: str) -> int:
        pid = pid_from_file(self.cfg, name)
        if pid is None:
            raise RuntimeError(f"{name} of this checkout's stack is not running")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while pid_alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} (pid {pid}) still alive 30 s after SIGKILL")
            time.sleep(0.05)
        return pid


class Injector:
    """Kills a fault's targets at once with SIGKILL, and starts them again."""

    def __init__(self, services: Services, runner: RunnerStack) -> None:
        self.services = services
        self.runner = runner

    def kill(self, fault: Fault) -> list[int]:
        pids = []
        for target in fault.targets:
            if target in INFRA:
                pids.append(self.runner.kill(target))
            else:
                pids.append(self.services.processes[target].pid)
                self.services.stop(target, kill=True)  # SIGKILL, then reaped
        return pids

    def restart(self, fault: Fault) -> None:
        infra = [t for t in fault.targets if t in INFRA]
        if infra:
            self.runner.up("--only", ",".join(infra))
        start_together(self.services, [t for t in fault.targets if t not in INFRA])


def start_together(services: Services, names: list[str]) -> None:
    """Start the services side by side (each waits for its own /health)."""
    _together(services.start, names)


def stop_together(services: Services) -> None:
    """Stop (SIGTERM) every running service side by side."""
    _together(services.stop, list(services.processes))


def _together(action: Callable[[str], None], names: list[str]) -> None:
    if not names:
        return
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        for future in [pool.submit(action, name) for name in names]:
            future.result()
