"""Watches a namespace's topics (as the admin principal) to see how far each encounter got.

Every topic is keyed by encounter key, so the distinct keys seen on a topic are the
encounters past that stage; claims.status also says which claims each encounter got and
when its claim reached a final status. The observer only reads: it is how the chaos run
shows that a kill happened mid-stream, and when the round settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiokafka import AIOKafkaConsumer

from deploy.demo.driver import FINAL_CLAIM_STATUSES
from shared.events import topics
from tests.stack import Stack

# Stage names in pipeline order, and the topic whose keys mark an encounter past it.
STAGES: dict[str, str] = {
    "received": topics.ENCOUNTERS_RECEIVED,  # intake's outbox published it
    "routed": topics.CODING_TASKS,  # the workflow handed it to a pool
    "coded": topics.CODING_EVENTS,  # the coder's codes left the coding service
    "released": topics.ENCOUNTERS_CODED,  # the workflow released it to claims
    "billed": topics.CLAIMS_STATUS,  # claims announced a claim for it
}


class PipelineObserver:
    def __init__(self, stack: Stack, prefix: str) -> None:
        self.stack = stack
        self.prefix = prefix
        self.past: dict[str, set[str]] = {stage: set() for stage in STAGES}
        # encounter key -> claim ids announced, with each claim's version in the chain
        self.claim_ids: dict[str, dict[str, int]] = {}
        # encounter key -> when its newest claim reached a final status that sends nothing
        # back to a coder (monotonic); a coding-caused denial clears it until the replacement
        self.final_at: dict[str, float] = {}
        self._stage_of = {prefix + topic: stage for stage, topic in STAGES.items()}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def snapshot(self) -> dict[str, int]:
        """How many encounters are past each stage right now (and at a final claim status)."""
        counts = {stage: len(keys) for stage, keys in self.past.items()}
        counts["final"] = len(self.final_at)
        return counts

    def last_stage(self, encounter_key: str) -> str:
        reached = [stage for stage, keys in self.past.items() if encounter_key in keys]
        return reached[-1] if reached else "accepted"

    async def _run(self) -> None:
        reader = AIOKafkaConsumer(
            *self._stage_of,
            bootstrap_servers=self.stack.kafka,
            auto_offset_reset="earliest",
            **self.stack.kafka_auth("admin"),
        )
        await reader.start()
        try:
            while True:
                for records in (await reader.getmany(timeout_ms=200)).values():
                    for record in records:
                        self._see(record.topic, (record.key or b"").decode(), record.value)
        finally:
            await reader.stop()

    def _see(self, topic: str, key: str, value: bytes | None) -> None:
        stage = self._stage_of[topic]
        if stage == "coded" and b"chartflow.coding.submitted" not in (value or b""):
            return  # a coder returning the encounter is not codes
        self.past[stage].add(key)
        if stage != "billed":
            return
        data: dict[str, Any] = json.loads(value or b"{}").get("data", {})
        if claim_id := data.get("claim_id"):
            self.claim_ids.setdefault(key, {})[claim_id] = int(data.get("version", 1))
        reworked = any(t.get("cause") == "coding" for t in data.get("triage", []))
        if data.get("status") in FINAL_CLAIM_STATUSES and not reworked:
            self.final_at.setdefault(key, time.monotonic())
        else:
            self.final_at.pop(key, None)
