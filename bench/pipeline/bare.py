"""The ceilings' HTTP server: a trivial endpoint and a bare insert, in a process of their own.

``POST /noop`` answers 202 at once (the load generator's own ceiling); ``POST /rows`` stores the
body as one row plus one outbox row in one transaction, through the same ``shared.db`` engine
and thread pool the services use (same database, same settings), and answers 202. No auth,
no validation, no relay: what any intake endpoint costs at least.

    python -m bench.pipeline.bare PORT DATABASE_URL
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI, Request, Response
from sqlmodel import Field, Session, SQLModel

from shared.crypto import use_phi_key
from shared.db import Database, ensure_postgres_database
from shared.outbox import OutboxEvent


class BenchRow(SQLModel, table=True):
    __tablename__ = "bench_row"

    id: str = Field(primary_key=True, max_length=64)
    body: str
    created_at: datetime


TABLES = [BenchRow.__table__, OutboxEvent.__table__]  # type: ignore[attr-defined]


def remove_sqlite_files(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)


def fresh_database(url: str) -> Database:
    """The ceiling's own database on the services' server (or SQLite directory), emptied."""
    remove_sqlite_files(url)
    ensure_postgres_database(url)
    db = Database(url, [BenchRow, OutboxEvent])
    SQLModel.metadata.drop_all(db.engine, tables=TABLES)
    SQLModel.metadata.create_all(db.engine, tables=TABLES)
    return db


def insert(session: Session, body: str) -> None:
    row_id = str(uuid.uuid4())
    session.add(BenchRow(id=row_id, body=body, created_at=datetime.now(UTC)))
    session.add(OutboxEvent(event_id=row_id, topic="bench.rows", key=row_id, payload=body))


def create_app(database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_phi_key(Fernet.generate_key())  # the outbox payload is encrypted, as the services'
        db = fresh_database(database_url)
        app.state.db = db
        yield
        SQLModel.metadata.drop_all(db.engine, tables=TABLES)
        db.close()
        remove_sqlite_files(database_url)

    app = FastAPI(lifespan=lifespan)

    @app.post("/noop", status_code=202)
    async def noop() -> Response:
        return Response(status_code=202)

    @app.post("/rows", status_code=202)
    async def rows(request: Request) -> Response:
        body = (await request.body()).decode()
        db: Database = request.app.state.db
        await db.run(lambda s: insert(s, body))
        return Response(status_code=202)

    return app


def main(argv: list[str]) -> None:
    port, database_url = int(argv[0]), argv[1]
    uvicorn.run(create_app(database_url), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
