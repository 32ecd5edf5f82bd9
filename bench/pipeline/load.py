"""The HTTP load generator: closed loop (fixed concurrency) or open loop (fixed arrival rate).

A request is a coroutine ``send(i) -> status``; times are wall-clock (``time.time()``) so they
compare with the timestamps the services record. The load itself goes through
`bench.pipeline.http11` (cheap per request); httpx serves the light traffic around it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.pipeline.stats import Sample

Send = Callable[[int], Awaitable[int]]


REQUEST_TIMEOUT = 60.0


def client(concurrency: int, timeout: float = REQUEST_TIMEOUT) -> httpx.AsyncClient:
    """An async client whose pool holds one keep-alive connection per concurrent request."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=timeout)


async def _timed(send: Send, i: int, start: float) -> Sample:
    try:
        status = await asyncio.wait_for(send(i), REQUEST_TIMEOUT)
    except (httpx.HTTPError, OSError, EOFError, TimeoutError):
        status = 0
    return Sample(i, start, time.time(), status)


async def closed_loop(
    send: Send,
    concurrency: int,
    *,
    count: int | None = None,
    duration: float | None = None,
    warmup: float = 0.0,
) -> list[Sample]:
    """``concurrency`` workers send back to back until ``count`` requests or ``duration`` s.

    Requests answered during the first ``warmup`` seconds (connections opening) are not kept.
    """
    if count is None and duration is None:
        raise ValueError("give a request count or a duration")
    samples: list[Sample] = []
    t0 = time.time()
    keep_from = t0 + warmup
    stop_at = t0 + warmup + duration if duration is not None else None
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while True:
            if count is not None and next_index >= count:
                return
            if stop_at is not None and time.time() >= stop_at:
                return
            i, next_index = next_index, next_index + 1
            sample = await _timed(send, i, time.time())
            if sample.start >= keep_from:
                samples.append(sample)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


async def paced(
    send: Send, per_second: float, *, count: int | None = None, duration: float | None = None
) -> list[Sample]:
    """Request i is due at t0 + i / per_second whatever the answers; its latency counts from
    when it was due, so a slow server cannot hide its queue (no coordinated omission)."""
    if count is None:
        if duration is None:
            raise ValueError("give a request count or a duration")
        count = max(1, round(per_second * duration))
    t0 = time.time()
    pending: list[asyncio.Task[Sample]] = []
    for i in range(count):
        due = t0 + i / per_second
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(_timed(send, i, due)))
    return list(await asyncio.gather(*pending))
