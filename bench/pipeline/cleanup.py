"""Leave nothing running: the run's unfinished EncounterCoding workflows are terminated, so the
next run does not share the worker with them (the run's hospital is its own)."""

from __future__ import annotations

import asyncio
import sys
import time

from temporalio.client import Client


async def terminate_workflows(
    client: Client, hospital_id: str, expected: int, within: float
) -> tuple[int, int]:
    """Wait until the hospital's ``expected`` workflows exist, terminating the running ones.

    Returns (workflows seen, workflows terminated). Gives up after ``within`` seconds.
    """
    everything = f"HospitalId = '{hospital_id}'"
    running = f"{everything} AND ExecutionStatus = 'Running'"
    deadline, terminated, seen = time.monotonic() + within, 0, 0
    while True:
        handles = [
            client.get_workflow_handle(w.id, run_id=w.run_id)
            async for w in client.list_workflows(running)
        ]
        for start in range(0, len(handles), 16):
            batch = handles[start : start + 16]
            outcomes = await asyncio.gather(
                *(h.terminate(reason="benchmark run over") for h in batch), return_exceptions=True
            )
            # A workflow that ended meanwhile (visibility lags a little) refuses: that is fine.
            terminated += sum(1 for outcome in outcomes if outcome is None)
        seen = (await client.count_workflows(everything)).count
        if seen >= expected and not handles:
            return seen, terminated
        if time.monotonic() > deadline:
            return seen, terminated
        print(
            f"  cleaning up: {seen}/{expected} workflows started, {terminated} terminated",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.sleep(2.0)
