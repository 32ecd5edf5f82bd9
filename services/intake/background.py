"""Intake's background work beside the consumers: releasing quiet HL7 visits, bulk jobs and
webhook deliveries, each a supervised loop of the runtime."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from services.intake.bulk_jobs import run_jobs
from services.intake.hl7_intake import release_quiet_visits
from services.intake.settings import IntakeSettings
from services.intake.webhook_sender import run_deliveries
from shared.service import Runtime


def every(seconds: float, work: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """A loop body that runs `work` and then sleeps, forever (supervised: failures restart it)."""

    async def loop() -> None:
        while True:
            await work()
            await asyncio.sleep(seconds)

    return loop


def start_background(rt: Runtime, settings: IntakeSettings) -> None:
    release = lambda: rt.db.run(lambda s: release_quiet_visits(s, settings))  # noqa: E731
    rt.loops.start("hl7-release", every(settings.hl7_release_poll_seconds, release))
    for n in range(settings.bulk_workers):  # one parses while another one's rows are written
        rt.loops.start(f"bulk-jobs-{n}", lambda: run_jobs(rt, settings))
    rt.loops.start("webhook-deliveries", lambda: run_deliveries(rt, settings))
