"""Memory and CPU of the stack's processes, read from /proc (Linux)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.local.runner.process import running_pid
from deploy.local.stack import COMPONENTS, Config

TICKS = os.sysconf("SC_CLK_TCK")
BENCH = "bench (load, coder)"


@dataclass(frozen=True)
class Usage:
    """A component's processes (its main process and every descendant) at one moment."""

    rss_bytes: int
    cpu_seconds: float
    # Proportional set size: shared pages split between the processes sharing them, so that
    # PostgreSQL's backends (and a JVM's or Python's shared libraries) are not counted twice.
    # None where /proc/PID/smaps_rollup cannot be read.
    pss_bytes: int | None = None


def _stat_fields(pid: int) -> list[str]:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2 :].split()  # after the command name: state, ppid, ...


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(pid: int, children: Mapping[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _pss_kib(pid: int) -> int | None:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    return next(
        (int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), None
    )


def _usage(pids: Iterable[int]) -> Usage:
    rss_pages, ticks = 0, 0
    pss_kib: int | None = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for pid in pids:
        try:
            fields = _stat_fields(pid)
            rss_pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
        pss = _pss_kib(pid)
        pss_kib = pss_kib + pss if pss is not None and pss_kib is not None else None
    return Usage(
        rss_bytes=rss_pages * page,
        cpu_seconds=ticks / TICKS,
        pss_bytes=pss_kib * 1024 if pss_kib is not None else None,
    )


def stack_usage(cfg: Config | None, skip: Iterable[str] = ()) -> dict[str, Usage]:
    """Each running component of this checkout's stack but ``skip``, and this process."""
    children = _children()
    usage: dict[str, Usage] = {}
    for name in COMPONENTS if cfg is not None else ():
        assert cfg is not None
        pid = running_pid(cfg, name) if name not in skip else None
        if pid is not None:
            usage[name] = _usage(_tree(pid, children))
    usage[BENCH] = _usage([os.getpid()])
    return usage


def cpu_during(before: Mapping[str, Usage], after: Mapping[str, Usage]) -> dict[str, float]:
    """CPU seconds each component used between two readings (components in both)."""
    return {
        name: after[name].cpu_seconds - before[name].cpu_seconds for name in after if name in before
    }
