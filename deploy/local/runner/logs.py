"""The components' logs in var/log: reading their tails, following them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO

from .config import COMPONENTS, Config
from .report import StackError


def log_contains(path: Path, marker: str) -> bool:
    """Whether the log (rotated at each start, so: this run's) has a line with ``marker``."""
    needle = marker.encode()
    try:
        with open(path, "rb") as fh:
            return any(needle in line for line in fh)
    except OSError:
        return False


def log_tail(path: Path, lines: int = 20) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read()
    except OSError:
        return []
    return data.decode(errors="replace").splitlines()[-lines:]


def show_logs(cfg: Config, name: str, lines: int, follow: bool, out: IO[str]) -> None:
    path = cfg.log_file(name)
    if not path.exists():
        raise StackError(name, f"no log yet at {cfg.rel(path)}")
    for line in log_tail(path, lines):
        print(line, file=out)
    if follow:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            while True:
                chunk = fh.readline()
                if chunk:
                    out.write(chunk.decode(errors="replace"))
                    out.flush()
                else:
                    time.sleep(0.3)


def show_all_logs(cfg: Config, lines: int, out: IO[str]) -> None:
    """The tail of every component's log that exists, each under a header."""
    shown = 0
    instances = sorted(p.stem for p in cfg.log_dir.glob("*-[0-9].log"))
    for name in [*COMPONENTS, *instances]:
        path = cfg.log_file(name)
        if path.exists():
            print(f"==> {cfg.rel(path)} <==", file=out)
            for line in log_tail(path, lines):
                print(line, file=out)
            shown += 1
    if not shown:
        raise StackError("", f"no logs yet in {cfg.rel(cfg.log_dir)}")
