"""Ports on 127.0.0.1: whether they are free, who holds them, and plain HTTP probes."""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import urllib.error
import urllib.request
from pathlib import Path

from .config import Config
from .process import all_pids, cmdline
from .report import StackError


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int) -> bool:
    """True if 127.0.0.1:port can be bound (so nothing else listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> int | None:
    """The pid listening on a TCP port, from /proc/net/tcp{,6} (None if not found)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return None
    for pid in all_pids():
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


def check_ports_free(cfg: Config, name: str) -> None:
    for port in cfg.ports(name):
        if port_free(port):
            continue
        owner = port_owner(port)
        who = ""
        if owner is not None:
            cmd = shlex.join(cmdline(owner))
            who = f" by pid {owner} ({cmd[:120]})"
        raise StackError(
            name,
            f"port {port} is already in use{who}; stop it or set another port "
            f"(see deploy/local/README.md)",
        )


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False
