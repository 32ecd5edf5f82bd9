"""One holder at a time per database: the job every replica of a service runs, done by one.

`Leadership(db, "outbox-relay")` is held by at most one process of the service's database:
on PostgreSQL a session advisory lock on a connection kept for the purpose (released by the
server the moment that process dies or its connection drops), on SQLite an exclusive `flock`
of a file beside the database (released by the kernel when the process dies). The others
stand by, trying again each time they ask, and take over within one of their tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import zlib
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text

from shared.db import Database


class Leadership:
    """Whether this process holds the named job on `db`; `held()` tries to take it if not."""

    def __init__(self, db: Database, job: str) -> None:
        self.db = db
        self.job = job
        self._connection: Connection | None = None
        self._file: IO[str] | None = None
        self._in_memory = db.url.startswith("sqlite") and self._sqlite_path() is None

    def _sqlite_path(self) -> Path | None:
        if not self.db.url.startswith("sqlite:///") or "mode=memory" in self.db.url:
            return None
        path = self.db.url.removeprefix("sqlite:///").partition("?")[0]
        return Path(path) if path and path != ":memory:" else None

    async def held(self) -> bool:
        """True while this process holds the job (checked, or newly taken, now)."""
        if self._in_memory:
            return True  # one process owns an in-memory database
        return await asyncio.to_thread(self._hold)

    def _hold(self) -> bool:
        if self.db.url.startswith("sqlite"):
            return self._hold_file()
        if self._connection is not None:
            try:  # still ours: the server keeps the lock as long as this session lives
                self._connection.execute(text("SELECT 1")).one()
                return True
            except Exception:
                self.release()
        connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            key = zlib.crc32(f"{self.job}:{self.db.url.rpartition('/')[2]}".encode())
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            if taken.scalar_one():
                self._connection = connection
                return True
        except Exception:
            connection.close()
            raise
        connection.close()
        return False

    def _hold_file(self) -> bool:
        if self._file is not None:
            return True
        path = self._sqlite_path()
        assert path is not None
        lock = Path(f"{path}.{self.job}.lock").open("w")  # noqa: SIM115 (kept open while held)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return False
        self._file = lock
        return True

    def release(self) -> None:
        """Give the job up (closing the session or file releases the lock)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()  # ends the session, so the lock, not back to the pool
                connection.close()
        lock, self._file = self._file, None
        if lock is not None:
            lock.close()
