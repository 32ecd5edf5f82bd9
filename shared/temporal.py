"""Temporal client set-up shared by the services that run workflows.

The client carries the interceptors its workers inherit: `ActivityTimings` (the workflow stage
histogram on `/metrics`) always, and the SDK's OpenTelemetry `TracingInterceptor` when tracing
is on (`shared.tracing`), so workflow and activity spans join the trace that started them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio import activity
from temporalio import client as temporal_client
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput
from temporalio.worker import Interceptor as WorkerInterceptor

from shared import tracing
from shared.metrics import ACTIVITY_SECONDS
from shared.settings import ChartflowSettings


class _TimedActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        started, outcome = time.monotonic(), "failed"
        try:
            result = await super().execute_activity(input)
            outcome = "ok"
            return result
        finally:
            kind = activity.info().activity_type
            seconds = time.monotonic() - started
            ACTIVITY_SECONDS.labels(activity=kind, outcome=outcome).observe(seconds)


class ActivityTimings(temporal_client.Interceptor, WorkerInterceptor):
    """Times every activity a worker runs, by activity type and outcome (ok, failed)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _TimedActivity(super().intercept_activity(next))


def interceptors() -> list[Any]:
    """What a client (and the workers built on it) intercepts with."""
    return [ActivityTimings(), *tracing.temporal_interceptors()]


async def connect(settings: ChartflowSettings, wait_seconds: float = 60.0) -> Client:
    """Connect with the pydantic data converter, waiting for a server that is still starting."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
                interceptors=interceptors(),
            )
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)
