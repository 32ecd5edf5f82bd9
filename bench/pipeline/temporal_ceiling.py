"""The bare Temporal ceiling: trivial workflows with one activity on the platform's server.

The worker runs in a process of its own (as assignment's does), on a task queue of its own;
this process starts the workflows at the benchmark's concurrency and waits for each result.

    python -m bench.pipeline.temporal_ceiling ADDRESS TASK_QUEUE     (the worker)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.worker import Worker

from bench.pipeline.stats import Figures, percentile, rate
from bench.pipeline.trivial import Trivial, noop
from shared.settings import ChartflowSettings
from shared.temporal import connect

READY = "worker ready"


@dataclass(frozen=True)
class TemporalCeiling:
    workflows: int
    starts_per_second: float
    completed: Figures  # completions per second; latency from the start call to the result


async def _serve(address: str, task_queue: str) -> None:
    client = await connect(ChartflowSettings(temporal_address=address))
    async with Worker(client, task_queue=task_queue, workflows=[Trivial], activities=[noop]):
        print(READY, flush=True)
        await asyncio.Event().wait()


def start_worker(address: str, task_queue: str) -> subprocess.Popen[str]:
    """The worker process, returned once it polls its task queue."""
    argv = [sys.executable, "-m", "bench.pipeline.temporal_ceiling", address, task_queue]
    worker = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    line = worker.stdout.readline()
    if READY not in line:
        worker.kill()
        raise RuntimeError(f"the Temporal ceiling's worker did not start: {line!r}")
    return worker


async def measure(
    client: Client, task_queue: str, workflows: int, concurrency: int
) -> TemporalCeiling:
    """Start ``workflows`` trivial workflows, ``concurrency`` start calls at a time."""
    prefix = f"bench-ceiling/{task_queue}"
    # One first, untimed: the worker's first workflow task loads its sandbox.
    await client.execute_workflow(Trivial.run, -1, id=f"{prefix}/warmup", task_queue=task_queue)
    gate = asyncio.Semaphore(concurrency)
    begun: list[float] = []
    started: list[float] = []
    done: list[float] = []

    async def one(i: int) -> None:
        async with gate:
            t0 = time.time()
            handle = await client.start_workflow(
                Trivial.run, i, id=f"{prefix}/{i}", task_queue=task_queue
            )
            started.append(time.time())
        await handle.result()
        begun.append(t0)
        done.append(time.time() - t0)

    t_first = time.time()
    await asyncio.gather(*(one(i) for i in range(workflows)))
    last = t_first + max(b - t_first + d for b, d in zip(begun, done, strict=True))
    return TemporalCeiling(
        workflows=workflows,
        starts_per_second=rate(workflows, t_first, max(started)),
        completed=Figures(
            count=workflows,
            rate=rate(workflows, t_first, last),
            p50=percentile(done, 50),
            p99=percentile(done, 99),
        ),
    )


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
