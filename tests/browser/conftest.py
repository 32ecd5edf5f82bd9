"""Debian's Chromium driven by Playwright (its own browser download is not reachable here),
and coding's app on a real port for it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright

from services.coding.app import create_app
from shared.settings import ChartflowSettings
from tests.browser.chromium import ARGS, CHROMIUM, serve
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Per test: Playwright's sync API holds an event loop of its own while it runs, which the
    suite's async tests must not find running."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"no {CHROMIUM}: `make browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@dataclass
class CodingServer:
    """Coding's API and pages on a real port, on a SQLite database of its own."""

    url: str
    app: FastAPI

    def register(self, person: str, role: str = "coder") -> str:
        """A vendor northstar member of pool "pro" (CPC); their API key."""
        body = {"id": person, "vendor_id": "northstar", "name": person, "role": role,
                "pools": ["pro"], "credentials": ["CPC"]}  # fmt: skip
        answer = httpx.post(f"{self.url}/v1/admin/coders", json=body, headers=ADMIN, timeout=30)
        key: str = answer.json()["api_key"]
        return key


@pytest.fixture
def coding_server(tmp_path: Path) -> Iterator[CodingServer]:
    settings = ChartflowSettings(
        service_name="coding",
        database_url=None,  # SQLite of its own, whatever DATABASE_URL says
        kafka_bootstrap_servers="127.0.0.1:1",  # no event leaves: they stay in the outbox
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
    )
    app = create_app(settings, frozenset({"api"}))
    with serve(app) as url:
        yield CodingServer(url, app)
