"""The pipeline run: a hospital pushes encounters, a simulated coder codes each one the moment
it is on the worklist, and the benchmark follows every encounter to its payment.

Only HTTP, as a hospital and a coder would: the worklist is polled every ``poll`` seconds (the
resolution of the "on a worklist" time); the claim's built and paid times are the claims
service's own, read from the hospital's view of the encounter.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.pipeline import load
from bench.pipeline.http11 import Http11Pool
from bench.pipeline.journey import Journey
from bench.pipeline.scenario import answer, encounter, encounter_key
from bench.pipeline.stats import Sample
from deploy.demo.driver import Endpoints

# Encounters whose claim is looked up per round (a round a second): light on intake; the
# claim's times are the claims service's own, so looking less often only ends the run later.
TRACK_BATCH = 16
MAX_TRACK_PAUSE = 4.0  # seconds between rounds while no claim finishes


@dataclass(frozen=True)
class Hospital:
    """Who pushes and who codes in this run."""

    endpoints: Endpoints
    data: dict[str, Any]
    run_id: str
    hospital_key: str
    coder_key: str


def intake_sender(
    hospital: Hospital,
    pool: Http11Pool,
    on_accepted: Callable[[int, dict[str, Any]], None] = lambda i, view: None,
    offset: int = 0,
) -> Callable[[int], Awaitable[int]]:
    """POST the run's encounter ``offset + i`` to intake; returns the status."""
    headers = {"X-API-Key": hospital.hospital_key, "Content-Type": "application/json"}

    async def send(i: int) -> int:
        body = json.dumps(encounter(hospital.data, hospital.run_id, offset + i)).encode()
        answer = await pool.post("/v1/encounters", body, headers)
        if answer.status == 202:
            on_accepted(offset + i, answer.json())
        return answer.status

    return send


@dataclass
class PipelineRun:
    hospital: Hospital
    count: int
    concurrency: int
    per_second: float | None  # None: as fast as the concurrency allows
    coders: int
    poll: float
    journeys: list[Journey] = field(init=False)
    errors: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)  # the benchmark's own, besides the load
    pushed: bool = False

    def __post_init__(self) -> None:
        data, run_id = self.hospital.data, self.hospital.run_id
        self.journeys = [
            Journey(i, encounter_key(data, encounter(data, run_id, i)["external_id"]))
            for i in range(self.count)
        ]
        self._by_key = {j.key: j for j in self.journeys}
        self._unanswered: set[str] = set()  # submissions that may have landed unheard

    async def run(self, within: float) -> bool:
        """Push, code and follow every encounter; False when some did not finish in time."""
        pushing = Http11Pool(self.hospital.endpoints.intake, self.concurrency)
        async with (
            load.client(self.coders + 1) as coding,
            load.client(TRACK_BATCH) as tracking,
        ):
            background = [
                asyncio.create_task(self._code(coding)),
                asyncio.create_task(self._progress()),
            ]
            tracker = asyncio.create_task(self._track(tracking))
            try:
                for sample in await self._push(pushing):
                    self._record_post(sample)
                self.pushed = True
                done, _ = await asyncio.wait(
                    [tracker, *background], timeout=within, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    task.result()  # the coder or the tracker stopped: say why
                return tracker in done
            finally:
                for task in [*background, tracker]:
                    task.cancel()
                await asyncio.gather(*background, tracker, return_exceptions=True)
                await pushing.close()

    async def _push(self, pool: Http11Pool) -> list[Sample]:
        def accepted(i: int, view: dict[str, Any]) -> None:
            self.journeys[i].intake_id = view["id"]

        send = intake_sender(self.hospital, pool, accepted)
        if self.per_second is None:
            return await load.closed_loop(send, self.concurrency, count=self.count)
        return await load.paced(send, self.per_second, count=self.count)

    def _record_post(self, sample: Sample) -> None:
        journey = self.journeys[sample.index]
        journey.posted = sample.start
        if sample.status == 202:
            journey.accepted = sample.end
        else:
            self.errors[f"POST /v1/encounters -> {sample.status or 'no answer'}"] += 1

    async def _call(
        self, client: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any
    ) -> httpx.Response | None:
        """One request of the coder or the tracker; None (and an error counted) if it failed."""
        headers = kwargs.pop("headers")
        try:
            response = await client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError:
            self.errors[f"{method} {what} -> no answer (tried again)"] += 1
            return None
        return response

    async def _code(self, client: httpx.AsyncClient) -> None:
        """Poll the worklist; hand each new task to one of the coder's parallel hands."""
        coding, headers = self.hospital.endpoints.coding, {"X-API-Key": self.hospital.coder_key}
        queue: asyncio.Queue[tuple[str, Journey]] = asyncio.Queue()
        hands = [asyncio.create_task(self._submit(client, queue)) for _ in range(self.coders)]
        seen: set[str] = set()
        try:
            # Until every encounter accepted has been seen: then the hands finish their work.
            while not (self.pushed and all(j.on_worklist for j in self.journeys if j.accepted)):
                await asyncio.sleep(self.poll)
                worklist = await self._call(
                    client, "GET", f"{coding}/v1/worklist", "/v1/worklist", headers=headers
                )
                self.requests["worklist polls"] += 1
                now = time.time()
                if worklist is None:
                    continue
                if worklist.status_code != 200:
                    self.errors[f"GET /v1/worklist -> {worklist.status_code}"] += 1
                    continue
                for task in worklist.json():
                    journey = self._by_key.get(task["encounter_key"])
                    if journey is None or task["id"] in seen:
                        continue
                    seen.add(task["id"])
                    journey.on_worklist = now
                    queue.put_nowait((task["id"], journey))
            await asyncio.gather(*hands)
        finally:
            for hand in hands:
                hand.cancel()
            await asyncio.gather(*hands, return_exceptions=True)

    async def _submit(
        self, client: httpx.AsyncClient, queue: asyncio.Queue[tuple[str, Journey]]
    ) -> None:
        """Open the chart, submit the codes; a request that got no answer is tried again."""
        coding, headers = self.hospital.endpoints.coding, {"X-API-Key": self.hospital.coder_key}
        while True:
            task_id, journey = await queue.get()
            url = f"{coding}/v1/tasks/{task_id}"
            chart = await self._call(client, "GET", url, "/v1/tasks/{id}", headers=headers)
            if chart is not None and chart.status_code != 200:
                self.errors[f"GET /v1/tasks/{{id}} -> {chart.status_code}"] += 1
                continue
            codes = answer(self.hospital.data, journey.index)
            submitted = chart and await self._call(
                client, "POST", f"{url}/codes", "/v1/tasks/{id}/codes", headers=headers, json=codes
            )
            if submitted is None:
                if chart is not None:
                    self._unanswered.add(task_id)
                queue.put_nowait((task_id, journey))
                await asyncio.sleep(0.5)
            elif submitted.status_code == 202 or (
                submitted.status_code == 409 and task_id in self._unanswered
            ):
                journey.coded = time.time()
            else:
                self.errors[f"POST /v1/tasks/{{id}}/codes -> {submitted.status_code}"] += 1

    async def _track(self, client: httpx.AsyncClient) -> None:
        """Look up the claims of coded encounters until every one is final, a batch a round,
        going round them in the order they were coded (claims need not finish in that order)."""
        intake, headers = self.hospital.endpoints.intake, {"X-API-Key": self.hospital.hospital_key}
        cursor = 0.0  # when the last encounter looked up was coded: the next round goes on after
        pause = 1.0
        while True:
            pending = sorted(
                (j for j in self.journeys if j.coded and j.intake_id and j.outcome is None),
                key=lambda j: j.coded or 0.0,
            )
            start = bisect.bisect_right([j.coded or 0.0 for j in pending], cursor)
            waiting = (pending[start:] + pending[:start])[:TRACK_BATCH]
            cursor = (waiting[-1].coded or 0.0) if waiting else 0.0
            views = await asyncio.gather(
                *(
                    self._call(
                        client,
                        "GET",
                        f"{intake}/v1/encounters/{j.intake_id}",
                        "/v1/encounters/{id}",
                        headers=headers,
                    )
                    for j in waiting
                )
            )
            final = sum(
                j.record_claim(v.json())
                for j, v in zip(waiting, views, strict=True)
                if v is not None and v.status_code == 200
            )
            self.requests["claim look-ups (GET /v1/encounters/{id})"] += len(waiting)
            if self.pushed and all(j.outcome for j in self.journeys if j.accepted):
                return
            # Back off while nothing finishes, so that looking costs intake little.
            pause = 1.0 if final else min(2 * pause, MAX_TRACK_PAUSE)
            if not waiting or final < len(waiting):
                await asyncio.sleep(pause)

    async def _progress(self, every: float = 10.0) -> None:
        t0 = time.time()
        while True:
            await asyncio.sleep(every)
            counts = {
                name: sum(1 for j in self.journeys if getattr(j, name) is not None)
                for name in ("accepted", "on_worklist", "coded", "built", "paid")
            }
            line = " ".join(f"{name} {n}" for name, n in counts.items())
            print(f"  {time.time() - t0:5.0f} s  {line}", file=sys.stderr, flush=True)
