"""Every service's schema comes from its Alembic revisions, on SQLite and on PostgreSQL.

A database at any earlier revision — or made by `create_all` before migrations existed —
upgrades to the newest schema with its rows kept, and the newest schema is what the models say.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    select,
)
from sqlalchemy import text as sql

from shared import migrations
from shared.db import Database
from shared.settings import ChartflowSettings
from tests.conftest import Stack

SERVICES = ("intake", "assignment", "coding", "claims")
PRE_MIGRATIONS = "create_all"  # a database made before migrations existed


@pytest.fixture(params=["sqlite", "postgres"])
def new_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Gives the URL of a new, empty database each time it is called."""
    if request.param == "sqlite":
        return lambda: f"sqlite:///{tmp_path / uuid.uuid4().hex}.db"
    stack: Stack = request.getfixturevalue("stack")
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    base = stack.database_url

    def postgres() -> str:
        prefix = f"m{uuid.uuid4().hex[:10]}."
        settings = ChartflowSettings(
            service_name="migrations", database_url=base, chartflow_namespace_prefix=prefix
        )
        return settings.service_database_url()

    return postgres


def _database(service: str, url: str) -> Database:
    return Database(url, migrations._service_tables(service))


def _revisions(service: str) -> list[str]:
    """Oldest first."""
    config = migrations.alembic_config(service, MetaData(), None)
    script = ScriptDirectory.from_config(config)
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _value(column: Any, row: int) -> Any:
    kind = column.type
    if isinstance(kind, Boolean):
        return row % 2 == 0
    if isinstance(kind, Integer):
        return row
    if isinstance(kind, Numeric | Float):
        return row
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1 + row, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2026, 1, 1 + row)
    if isinstance(kind, String):  # String, Text and VARCHAR(n)
        length = getattr(kind, "length", None) or 40
        return f"{row}-{column.name}"[:length]
    raise AssertionError(f"no sample value for {column.table.name}.{column.name}: {kind!r}")


def _fill_every_table(db: Database, rows: int = 3) -> dict[str, int]:
    """Rows in every table of the schema as it is now (reflected, not from the models)."""
    schema = MetaData()
    schema.reflect(db.engine)
    counts = {}
    with db.engine.begin() as connection:
        for table in schema.sorted_tables:
            if table.name == "alembic_version":
                continue
            # A lone integer key numbers itself; one of a composite key (bulk_chunk.seq) does not.
            serial = len(table.primary_key.columns) == 1
            for row in range(1, rows + 1):
                values = {
                    c.name: _value(c, row)
                    for c in table.columns
                    if not (
                        serial and c.primary_key and isinstance(c.type, Integer) and c.autoincrement
                    )
                }
                connection.execute(table.insert().values(values))
            counts[table.name] = rows
    return counts


def _counts(db: Database, names: list[str]) -> dict[str, int]:
    """Rows per table of `names`; a table a revision retired is counted under its old name."""
    schema = MetaData()
    schema.reflect(db.engine)
    counts = {}
    with db.engine.connect() as connection:
        for name in names:
            table = schema.tables.get(name)
            if table is None:
                table = schema.tables.get(f"{migrations.RETIRED_PREFIX}{name}")
            if isinstance(table, Table):
                query = select(func.count()).select_from(table)
                counts[name] = int(connection.execute(query).scalar_one())
    return counts


@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICES)
def test_the_newest_schema_is_what_the_models_say(
    service: str, new_database_url: Callable[[], str]
) -> None:
    db = _database(service, new_database_url())
    try:
        migrations.upgrade(db, service)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "include_object": migrations._include_object},
            )
            differences = compare_metadata(context, migrations.service_metadata(db.tables))
        revision = migrations.current_revision(db)
    finally:
        db.close()

    assert differences == [], f"{service}: models and migrations differ; write a revision"
    assert revision == migrations.head_revision(service)


@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICES)
def test_a_database_at_any_earlier_revision_upgrades_with_its_rows(
    service: str, new_database_url: Callable[[], str]
) -> None:
    for start in [PRE_MIGRATIONS, *_revisions(service)]:
        db = _database(service, new_database_url())
        try:
            first = migrations.BASELINE if start == PRE_MIGRATIONS else start
            migrations.upgrade(db, service, first)
            if start == PRE_MIGRATIONS:
                with db.engine.begin() as connection:
                    connection.execute(sql("DROP TABLE alembic_version"))
            before = _fill_every_table(db)

            migrations.upgrade(db, service)

            after = _counts(db, list(before))
            revision = migrations.current_revision(db)
        finally:
            db.close()
        assert after == before, f"{service} from {start}: rows lost"
        assert revision == migrations.head_revision(service), start
