"""Schemas under Alembic: each service's revisions live in `services/<name>/migrations/`.

A service applies its migrations at start (`Runtime.create`), and anyone can with
`python -m shared.migrations SERVICE upgrade` (or `current`, `history`, `check`, and
`revision -m MESSAGE` to write a new revision from the difference between the SQLModel models
and the migrated schema). Databases created before migrations existed (by `create_all`) are
stamped at the baseline revision when they hold its tables, then upgraded.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from shared.db import Database, ensure_postgres_database

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
#: The first revision of every service: the schema as `create_all` made it before migrations.
BASELINE = "0001"


def service_metadata(tables: Sequence[type[SQLModel]]) -> MetaData:
    """A metadata holding only these tables (SQLModel's global one holds every service's)."""
    metadata = MetaData()
    for model in tables:
        model.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    return metadata


def alembic_config(service: str, metadata: MetaData, connection: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.attributes["metadata"] = metadata
    config.attributes["connection"] = connection
    return config


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Revisions name plain SQLAlchemy types: the stored type, not the app's decorators (an
    encrypted column is TEXT to the database; AutoString is VARCHAR)."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        return f"sa.{impl!r}"
    return False


#: Tables a revision retired but kept (audit evidence): no model maps them any more.
RETIRED_PREFIX = "retired_"


def _include_object(
    obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any
) -> bool:
    return not (kind == "table" and reflected and (name or "").startswith(RETIRED_PREFIX))


def run_env() -> None:
    """The body of every service's `migrations/env.py`: run on the connection we were given."""
    config = context.config
    context.configure(
        connection=config.attributes["connection"],
        target_metadata=config.attributes["metadata"],
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=_render_item,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def head_revision(service: str) -> str:
    script = ScriptDirectory.from_config(alembic_config(service, MetaData(), None))
    head = script.get_current_head()
    assert head is not None, f"{service} has no migrations"
    return head


@contextlib.contextmanager
def _migration_lock(db: Database, connection: Connection, service: str) -> Iterator[None]:
    """One migrating process at a time per database (replicas start together)."""
    if db.url.startswith("postgresql"):
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(service.encode())}
        )
        yield
        return
    path = db.url.removeprefix("sqlite:///")
    lock_file = Path(f"{path}.migrate.lock") if path and path != ":memory:" else None
    if lock_file is None:
        yield
        return
    with lock_file.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _created_before_migrations(connection: Connection, metadata: MetaData) -> bool:
    names = set(inspect(connection).get_table_names())
    return "alembic_version" not in names and bool(names & set(metadata.tables))


def upgrade(db: Database, service: str, revision: str = "head") -> None:
    """Bring the service's database to `revision` (the newest by default)."""
    ensure_postgres_database(db.url)
    metadata = service_metadata(db.tables)
    with db.engine.begin() as connection, _migration_lock(db, connection, service):
        config = alembic_config(service, metadata, connection)
        if _created_before_migrations(connection, metadata):
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)


def _tidy(path: Path) -> None:
    """Drop autogenerate's banner comments from a new revision and reformat it."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.strip().startswith("# ###")))
    ruff = str(Path(sys.executable).with_name("ruff"))
    subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False)
    subprocess.run([ruff, "format", "--quiet", str(path)], check=False)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _service_tables(service: str) -> list[type[SQLModel]]:
    from importlib import import_module

    from shared.outbox import OutboxEvent, ProcessedEvent

    tables: Sequence[type[SQLModel]] = import_module(f"services.{service}.db").TABLES
    return [*tables, OutboxEvent, ProcessedEvent]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.migrations")
    parser.add_argument(
        "service", choices=sorted(p.parent.name for p in SERVICES_DIR.glob("*/migrations"))
    )
    parser.add_argument("action", choices=["upgrade", "current", "history", "check", "revision"])
    parser.add_argument("-m", "--message", help="revision: what the new revision changes")
    parser.add_argument("--url", help="database URL (default: the service's settings)")
    args = parser.parse_args(argv)
    tables = _service_tables(args.service)
    if args.action in ("history",):
        command.history(alembic_config(args.service, MetaData(), None))
        return 0
    if args.action in ("check", "revision"):
        # Compare the models with a scratch database migrated to head.
        with tempfile.TemporaryDirectory() as scratch:
            db = Database(f"sqlite:///{scratch}/scratch.db", tables)
            upgrade(db, args.service)
            with db.engine.begin() as connection:
                config = alembic_config(args.service, service_metadata(tables), connection)
                if args.action == "check":
                    command.check(config)
                    print(f"{args.service}: the migrations match the models")
                else:
                    if not args.message:
                        parser.error("revision needs -m MESSAGE")
                    script = ScriptDirectory.from_config(config)
                    number = f"{len(list(script.walk_revisions())) + 1:04d}"
                    made = command.revision(
                        config, message=args.message, autogenerate=True, rev_id=number
                    )
                    for written in made if isinstance(made, list) else [made]:
                        if written is not None:
                            _tidy(Path(written.path))
            db.close()
        return 0
    from shared.settings import ChartflowSettings

    settings = ChartflowSettings(service_name=args.service)
    db = Database(args.url or settings.service_database_url(), tables)
    try:
        if args.action == "upgrade":
            upgrade(db, args.service)
        head = head_revision(args.service)
        print(f"{args.service}: at revision {current_revision(db)} (head {head})")
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
