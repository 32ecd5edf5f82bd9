"""Re-encrypt a service's stored PHI under the newest keys, reporting progress.

`python -m services.NAME rekey` after a key rotation (`python -m shared.keys rotate`, then a
restart so the services write with the new keys): every `EncryptedText` column of every table
of the service's database, and the envelopes in its outbox (whose PHI fields are sealed too),
move to the newest key of their scope. Rows already there are skipped, so it can be run again
after an interruption. A row changed meanwhile by the service is left alone: the service wrote
it with the newest key already. The run is one record in the PHI access log.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Table, Text, select, text, tuple_, type_coerce
from sqlmodel import Session, SQLModel

from shared import migrations
from shared.access import Reader, record_access
from shared.crypto import STORAGE, EncryptedText, column_kid, decrypt_column, encrypt_column
from shared.crypto import keyring as current_keyring
from shared.db import Database
from shared.events.phi import reseal
from shared.outbox import OutboxEvent
from shared.settings import ChartflowSettings

BATCH = 200
Report = Callable[[str], None]


@dataclass
class Progress:
    table: str
    column: str
    total: int
    changed: int = 0
    current: int = 0

    def line(self) -> str:
        done = self.changed + self.current
        return (
            f"{self.table}.{self.column}: {done}/{self.total} rows "
            f"({self.changed} re-encrypted, {self.current} already under the newest key)"
        )


def encrypted_columns(tables: Sequence[type[SQLModel]]) -> list[tuple[Table, Column[str]]]:
    found = []
    for model in tables:
        table: Table = model.__table__  # type: ignore[attr-defined]
        found += [(table, c) for c in table.columns if isinstance(c.type, EncryptedText)]
    return found


def _renewed(stored: str, envelope: bool) -> str | None:
    """The value under the newest keys, or None when it already is."""
    newest = current_keyring().newest(STORAGE)
    plaintext = decrypt_column(stored)
    if envelope:  # outbox rows: the sealed PHI fields inside move to the newest keys too
        body = json.loads(plaintext)
        resealed = {**body, "data": reseal(body["data"])}
        if resealed != body:
            return encrypt_column(json.dumps(resealed))
    return None if column_kid(stored) == newest else encrypt_column(plaintext)


def rekey_column(db: Database, table: Table, column: Column[str], report: Report) -> Progress:
    keys = list(table.primary_key.columns)  # one column or several (a composite key)
    raw = type_coerce(column, Text)
    progress = Progress(table.name, column.name, 0)
    with db.session() as session:
        count = select(text("count(*)")).select_from(table).where(column.isnot(None))
        progress.total = int(session.execute(count).scalar_one())
    same_row = " AND ".join(f"{k.name} = :k{n}" for n, k in enumerate(keys))
    update = text(
        f"UPDATE {table.name} SET {column.name} = :new WHERE {same_row} AND {column.name} = :old"
    )
    envelope = table.name == OutboxEvent.__tablename__ and column.name == "payload"
    last = None
    while True:
        query = select(*keys, raw).where(column.isnot(None)).order_by(*keys).limit(BATCH)
        if last is not None:
            query = query.where(tuple_(*keys) > tuple_(*last))
        with db.session() as session:
            rows = session.execute(query).all()
            for *row_key, stored in rows:
                new = _renewed(stored, envelope)
                if new is None:
                    progress.current += 1
                    continue
                where = {f"k{n}": value for n, value in enumerate(row_key)}
                session.execute(update, {"new": new, "old": stored, **where})
                progress.changed += 1
            session.commit()
        if not rows:
            return progress
        last = tuple(rows[-1])[:-1]
        report(progress.line())


def rekey_database(
    settings: ChartflowSettings, tables: Sequence[type[SQLModel]], report: Report = print
) -> list[Progress]:
    """Re-encrypt every encrypted column of the service's tables (and its outbox)."""
    db = Database(settings.service_database_url(), [*tables, OutboxEvent])
    try:
        migrations.upgrade(db, settings.service_name)
        done = [
            rekey_column(db, table, column, report)
            for table, column in encrypted_columns([*tables, OutboxEvent])
        ]
        operator = Reader(getpass.getuser(), "admin")
        route = f"python -m services.{settings.service_name} rekey"
        db.run_sync(lambda s: _record(s, settings, operator, route))
    finally:
        db.close()
    for progress in done:
        report(f"{settings.service_name}: done {progress.line()}")
    return done


def _record(session: Session, settings: ChartflowSettings, operator: Reader, route: str) -> None:
    record_access(session, settings, operator, "storage.rekey", route)
