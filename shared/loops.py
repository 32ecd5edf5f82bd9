"""Running a service: background loops supervised inside the API process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()


async def supervise(name: str, run_once: Callable[[], Awaitable[None]]) -> None:
    """Run `run_once` forever, restarting it with backoff when it fails (e.g. broker down)."""
    delay = 0.5
    while True:
        try:
            await run_once()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("loop.restarting", loop=name, error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


class BackgroundLoops:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, run_once: Callable[[], Awaitable[None]]) -> None:
        self._tasks.append(asyncio.create_task(supervise(name, run_once), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
