"""Replicas start at the same moment: each creates its service's PostgreSQL database if it is
missing, and the ones that lose the race start all the same."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.db import ensure_postgres_database
from tests.conftest import Stack

pytestmark = pytest.mark.postgres


def _start(together: threading.Barrier, url: str) -> None:
    together.wait()
    ensure_postgres_database(url)


def test_replicas_creating_their_database_together_all_go_on(stack: Stack, unique: str) -> None:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    for attempt in range(3):
        url = f"{stack.database_url}_{unique.strip('.')}_start{attempt}"
        together = threading.Barrier(4)
        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(_start, together, url) for _ in range(4)]:
                future.result()  # raised "already exists" for the losers before the fix
