#!/usr/bin/env python3
"""Run the Chartflow platform as local processes: Kafka, Temporal, PostgreSQL, the services.

Usage (from the repository root; standard library only, so any Python 3.11 runs it):

    python3 deploy/local/stack.py up [--postgres] [--services] [--only NAME]...
    python3 deploy/local/stack.py down [--only NAME]...
    python3 deploy/local/stack.py status
    python3 deploy/local/stack.py logs NAME [-n LINES] [-f]
    python3 deploy/local/stack.py env

Everything lives under ``var/`` at the repository root: data (var/kafka/data,
var/temporal/temporal.db, var/postgres/data), logs (var/log/NAME.log) and pid files
(var/run/NAME.pid). The code is in the ``runner`` package next to this file; see
deploy/local/README.md.

Importable: ``from deploy.local.stack import SEARCH_ATTRIBUTES, Config, main``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    # Run as a script, where sys.path[0] is deploy/local (or, under `python -I`, nothing of
    # ours): the repository root makes `deploy.local.runner` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deploy.local.runner.cli import main
from deploy.local.runner.config import COMPONENTS, SERVICES, Config
from deploy.local.runner.report import StackError
from deploy.local.runner.temporal import SEARCH_ATTRIBUTES

__all__ = ["COMPONENTS", "SEARCH_ATTRIBUTES", "SERVICES", "Config", "StackError", "main"]

if __name__ == "__main__":
    sys.exit(main())
