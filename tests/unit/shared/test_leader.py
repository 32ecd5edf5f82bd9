"""Leadership on SQLite: one holder per database file at a time; the next one takes over as
soon as the holder lets go (its process dying closes the file, which is the same)."""

from __future__ import annotations

from pathlib import Path

from shared.db import Database
from shared.leader import Leadership


async def test_one_holder_per_database_file_and_the_next_takes_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    first, second = Database(url, []), Database(url, [])
    relay_a, relay_b = Leadership(first, "outbox-relay"), Leadership(second, "outbox-relay")
    other_job = Leadership(second, "scheduler")
    try:
        assert await relay_a.held()
        assert not await relay_b.held()
        assert await relay_a.held()  # still held on asking again
        assert await other_job.held()  # another job is another lock
        relay_a.release()
        assert await relay_b.held()
        assert not await relay_a.held()
    finally:
        for lease in (relay_a, relay_b, other_job):
            lease.release()
        first.close()
        second.close()


async def test_an_in_memory_database_has_one_process_so_it_always_holds() -> None:
    db = Database("sqlite://", [])
    try:
        assert await Leadership(db, "outbox-relay").held()
    finally:
        db.close()
