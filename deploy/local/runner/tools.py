"""Helper commands run to completion (java -version, mvn, initdb, psql, the Temporal CLI)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .process import as_user
from .report import StackError


def need_tool(component: str, tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(component, f"no `{tool}` on PATH; {hint}")
    return path


def run(
    component: str,
    argv: Sequence[str],
    *,
    what: str,
    timeout: float = 120,
    user: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a helper command to completion; raise StackError with its output on failure."""
    try:
        proc = subprocess.run(  # type: ignore[call-overload]
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            cwd=str(cwd) if cwd else None,
            env=dict(env) if env is not None else None,
            check=False,
            **as_user(user),
        )
    except FileNotFoundError:
        raise StackError(component, f"{what}: {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise StackError(component, f"{what} took longer than {timeout:g}s") from None
    output = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-20:])
        raise StackError(component, f"{what} failed (exit {proc.returncode})", tail)
    return str(output)
