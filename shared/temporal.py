"""Temporal client set-up shared by the services that run workflows."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from shared.settings import ChartflowSettings


async def connect(settings: ChartflowSettings, wait_seconds: float = 60.0) -> Client:
    """Connect with the pydantic data converter, waiting for a server that is still starting."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)
