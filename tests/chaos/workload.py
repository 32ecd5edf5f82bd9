"""The load of a chaos round: the demo hospital pushing encounters at a steady rate while the
demo coder codes whatever reaches the worklist, both going on through every fault."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import Counter
from typing import Any

import httpx

from deploy.demo.driver import DATA, Scenario


def chaos_data(encounters: int, label: str) -> dict[str, Any]:
    """The demo's hospital, pools, coder and payer, and `encounters` encounters cycled from its
    samples (external ids `<label>-00001` ...). The pools are made big enough never to be full:
    a full pool's five-minute recheck would measure capacity, not recovery."""
    data: dict[str, Any] = json.loads(DATA.read_text())
    samples = data["encounters"]
    data["encounters"] = [  # with the sample's rework codes, if the payer denies its first
        {**sample, "encounter": {**sample["encounter"], "external_id": f"{label}-{i + 1:05d}"}}
        for i, sample in ((i, samples[i % len(samples)]) for i in range(encounters))
    ]
    for pool in data["pools"]:
        pool["capacity"] = max(pool["capacity"], encounters)
    return data


class Stream:
    """A hospital pushing every encounter of the scenario `rate` a second, retrying each until
    intake accepts it (a replay answers 202 too), and a coder coding their worklist meanwhile.

    Both run in threads and shrug off errors (a killed service refuses connections): what
    went wrong is counted by error type, and the work is simply tried again.
    """

    def __init__(
        self,
        scenario: Scenario,
        rate: float,
        retry_for: float = 300.0,
        transport: httpx.BaseTransport | None = None,  # e.g. spread over replicas
    ) -> None:
        self.hospital = scenario
        coder_client = httpx.Client(timeout=30, transport=transport)
        self.coder = dataclasses.replace(scenario, client=coder_client)
        self.rate = rate
        self.retry_for = retry_for
        self.items = scenario.data["encounters"]
        self.pushed = 0  # encounters the hospital started pushing
        self.accepted: dict[str, dict[str, Any]] = {}  # external id -> intake's answer
        self.coded = 0
        self.push_errors: Counter[str] = Counter()
        self.code_errors: Counter[str] = Counter()
        self.pushing_done = threading.Event()
        self.last_push_at = 0.0
        self._stop = threading.Event()
        self._stop_pushing = threading.Event()
        self._threads = [
            threading.Thread(target=self._push_all, name="hospital", daemon=True),
            threading.Thread(target=self._code_until_stopped, name="coder", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop_pushing(self) -> None:
        """The hospital gives up on what it has not pushed yet (the round ran out of time)."""
        self._stop_pushing.set()

    def stop(self) -> None:
        self._stop_pushing.set()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _push_all(self) -> None:
        started = time.monotonic()
        try:
            for i, item in enumerate(self.items):
                self._stop_pushing.wait(max(0.0, started + i / self.rate - time.monotonic()))
                if self._stop_pushing.is_set():
                    return
                self.pushed += 1
                self._push(item["encounter"])
        finally:
            self.last_push_at = time.monotonic()
            self.pushing_done.set()

    def _push(self, encounter: dict[str, Any]) -> None:
        deadline = time.monotonic() + self.retry_for
        pause = 0.1
        while not self._stop_pushing.is_set():
            try:
                self.accepted[encounter["external_id"]] = self.hospital.push(encounter)
                return
            except (httpx.HTTPError, RuntimeError) as exc:
                self.push_errors[type(exc).__name__] += 1
                if time.monotonic() > deadline:
                    return  # not accepted: the row shows pushed > accepted
            self._stop_pushing.wait(pause)
            pause = min(pause * 2, 2.0)

    def _code_until_stopped(self) -> None:
        while not self._stop.is_set():
            coded = 0
            try:
                coded = self.coder.code_worklists()
                self.coded += coded
            except (httpx.HTTPError, RuntimeError) as exc:
                self.code_errors[type(exc).__name__] += 1
            if not coded:
                self._stop.wait(0.3)
