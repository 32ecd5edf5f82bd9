"""The dispatcher's rounds: a burst of calls for one pool shares rounds, and no call returns
before a round that began after it has offered the pool's slots."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.assignment.backlog import RESEND_OFFER, Backlog


class Rounds(Backlog):
    """The dispatcher with its database round replaced by a recorder (the rest is real)."""

    def __init__(self, fail_first: bool = False) -> None:
        self._rounds = {}
        self.began: list[tuple[str, timedelta, int]] = []  # pool, resend, round number
        self.fail_first = fail_first
        self.release = asyncio.Event()

    async def _offer_round(self, pool_id: str, resend: timedelta) -> None:
        self.began.append((pool_id, resend, len(self.began)))
        await self.release.wait()
        if self.fail_first and len(self.began) == 1:
            raise RuntimeError("the database went away")


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_calls_made_while_a_round_runs_share_one_more_round() -> None:
    backlog = Rounds()
    first = asyncio.create_task(backlog.dispatch(["pool-a"]))
    await _settle()
    later = [asyncio.create_task(backlog.dispatch(["pool-a"])) for _ in range(20)]
    await _settle()
    assert len(backlog.began) == 1 and not any(t.done() for t in [first, *later])
    backlog.release.set()
    await asyncio.gather(first, *later)
    assert [b[0] for b in backlog.began] == ["pool-a", "pool-a"]  # 21 calls, 2 rounds


async def test_each_pool_has_its_own_rounds_and_one_call_covers_several() -> None:
    backlog = Rounds()
    backlog.release.set()
    await backlog.dispatch(["pool-b", "pool-a", "pool-b"])
    assert sorted(b[0] for b in backlog.began) == ["pool-a", "pool-b"]


async def test_a_retry_in_a_shared_round_resends_every_untaken_offer() -> None:
    backlog = Rounds()
    first = asyncio.create_task(backlog.dispatch(["pool-a"]))
    await _settle()
    shared = [
        asyncio.create_task(backlog.dispatch(["pool-a"])),
        asyncio.create_task(backlog.dispatch(["pool-a"], resend_after=timedelta(0))),
    ]
    await _settle()
    backlog.release.set()
    await asyncio.gather(first, *shared)
    assert [b[1] for b in backlog.began] == [RESEND_OFFER, timedelta(0)]


async def test_a_failed_round_fails_its_caller_and_the_waiting_calls_run_their_own() -> None:
    backlog = Rounds(fail_first=True)
    first = asyncio.create_task(backlog.dispatch(["pool-a"], resend_after=timedelta(0)))
    await _settle()
    waiting = asyncio.create_task(backlog.dispatch(["pool-a"]))
    await _settle()
    backlog.release.set()
    with pytest.raises(RuntimeError):
        await first
    await waiting
    # The failed round's resend of every offer is carried into the round that ran next.
    assert [b[1] for b in backlog.began] == [timedelta(0), timedelta(0)]
