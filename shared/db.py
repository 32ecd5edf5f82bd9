"""SQLModel engine and sessions for SQLite (embedded default) and PostgreSQL.

Blocking database work never runs on the event loop: `Database.run` hands a function to a
thread pool and commits. SQLite gets a single writer thread, because several threads contending
for its write lock produce second-long tails.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine, text

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # hide_parameters: errors must not carry row values (PHI) into logs.
    return create_engine(
        url, pool_size=10, max_overflow=5, pool_pre_ping=True, hide_parameters=True
    )


def ensure_postgres_database(url: str) -> None:
    """Create the service's PostgreSQL database if it does not exist yet."""
    if not url.startswith("postgresql"):
        return
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    exists = text("SELECT 1 FROM pg_database WHERE datname = :n")
    try:
        with admin.connect() as conn:
            if conn.execute(exists, {"n": name}).first():
                return
            try:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            except (IntegrityError, ProgrammingError):
                # A replica starting at the same moment created it first.
                if not conn.execute(exists, {"n": name}).first():
                    raise
    finally:
        admin.dispose()


class Database:
    def __init__(self, url: str, tables: Sequence[type[SQLModel]]) -> None:
        self.url = url
        self.tables = tables
        self.engine = make_engine(url)
        workers = 1 if url.startswith("sqlite") else 8
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def run_sync(self, fn: Callable[[Session], T]) -> T:
        with self.session() as session:
            result = fn(session)
            session.commit()
            return result

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in the database thread pool and commit."""
        loop = asyncio.get_running_loop()
        # In the caller's context: the current span (and log context) reach the thread.
        call = functools.partial(contextvars.copy_context().run, self.run_sync, fn)
        return await loop.run_in_executor(self._executor, call)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()
