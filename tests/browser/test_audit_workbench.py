"""A coder codes a task on the workbench, an auditor re-codes it blind and reconciles it on the
auditor workbench, and the coder reads the auditor's rationale: in Debian's Chromium, failing
on any console error, failed request or error answer, and on any element that is missing."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from services.coding import audits, handlers
from services.coding.app import create_app
from shared.events.assignment import AuditTaskCreated, CodingChart, CodingTaskCreated
from shared.events.envelope import Envelope
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings

pytestmark = pytest.mark.browser

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())
KEY = "mercy:DEMO-OV-1001"
DUE = datetime.now(UTC) + timedelta(days=1)


@dataclass
class Coding:
    url: str
    app: FastAPI
    keys: dict[str, str]


@dataclass
class Watched:
    """What went wrong on a page: console errors, uncaught errors, failed or refused requests."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.set_default_timeout(10_000)  # a missing element fails in seconds, not half a minute
        page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.method} {r.url}"))
        page.on(
            "response",
            lambda r: (
                r.status >= 400 and self.problems.append(f"{r.status}: {r.request.method} {r.url}")
            ),
        )
        return page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _deliver(app: FastAPI, event: Any) -> None:
    envelope = Envelope.wrap(event, source="assignment", subject=KEY, tenant="mercy")
    take = handlers.take_task if isinstance(event, CodingTaskCreated) else audits.take_audit
    app.state.runtime.db.run_sync(lambda s: take(s, envelope))


@pytest.fixture
def coding(tmp_path: Path) -> Iterator[Coding]:
    """Coding's API and pages on a real port, coder Ava and auditor Olga registered, one task
    on Ava's worklist."""
    settings = ChartflowSettings(
        service_name="coding",
        database_url=None,  # SQLite of its own, whatever DATABASE_URL says
        kafka_bootstrap_servers="127.0.0.1:1",  # no event leaves: they stay in the outbox
        chartflow_var=tmp_path,
        admin_token="test-admin-token-for-the-browser-tests",
    )
    app = create_app(settings, frozenset({"api"}))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{server.config.port}"
    admin = {"Authorization": f"Bearer {settings.admin_token}"}
    keys = {}
    for person, role in (("coder-ava", "coder"), ("auditor-olga", "auditor")):
        body = {"id": person, "vendor_id": "northstar", "name": person, "role": role,
                "pools": ["northstar-pro"], "credentials": ["CPC"]}  # fmt: skip
        keys[person] = httpx.post(f"{url}/v1/admin/coders", json=body, headers=admin).json()[
            "api_key"
        ]
    chart = CodingChart.of(EncounterDocument.model_validate(DEMO["encounters"][0]["encounter"]))
    _deliver(app, CodingTaskCreated(
        task_id="task-1", encounter_key=KEY, hospital_id="mercy", vendor_id="northstar",
        pool_id="northstar-pro", due_at=DUE, chart=chart,
    ))  # fmt: skip
    try:
        yield Coding(url, app, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _sign_in(page: Page, url: str, key: str, button: str) -> None:
    page.goto(url)
    page.fill("#key", key)
    page.click(button)


def _code_on_the_workbench(page: Page, coding: Coding) -> None:
    _sign_in(page, f"{coding.url}/workbench", coding.keys["coder-ava"], "#load")
    page.click(f"text={KEY}")
    expect(page.locator("#chart")).to_contain_text("osteoarthritis")
    for code in ("E11.9", "I10", "M17.11"):
        page.fill("#search", code)
        page.locator("#results tr", has_text=code).first.click()
    expect(page.locator("#diagnoses tr")).to_have_count(3)
    for code, modifiers, pointers in (("99214", "25", "1,2"), ("20610", "RT", "3")):
        page.fill("#proc-code", code)
        page.fill("#proc-mods", modifiers)
        page.fill("#proc-ptrs", pointers)
        page.click("#add-proc")
    page.click("#submit")
    expect(page.locator("#findings li")).to_have_text("Submitted.")
    expect(page.locator("#worklist tr")).to_have_count(0)


def _audit_blind_and_reconcile(page: Page, coding: Coding) -> None:
    _sign_in(page, f"{coding.url}/audits", coding.keys["auditor-olga"], "#load")
    page.click(f"#audits tr:has-text('{KEY}')")
    expect(page.locator("#chart")).to_contain_text("osteoarthritis")
    expect(page.locator("#recode")).to_be_visible()
    expect(page.locator("#reconciliation")).to_be_hidden()
    assert "I10" not in page.inner_text("main")  # blind: the coder's codes are nowhere
    page.fill("#dx-lines", "E11.9\nI11.9\nM17.11")
    page.fill("#px-lines", "99214 25 1 1,2\n20610 RT 1 3")
    page.click("#submit-recode")

    expect(page.locator("#reconciliation")).to_be_visible()
    expect(page.locator("#side-by-side tr.differs")).to_have_count(1)
    expect(page.locator("#side-by-side tr.differs")).to_contain_text("I10")
    expect(page.locator("#side-by-side tr.differs")).to_contain_text("I11.9")
    difference = page.locator("#differences tr[data-id='dx-changed-2-2']")
    expect(difference).to_contain_text("changed: I10 changed to I11.9")
    difference.locator(".decision").select_option("auditor")
    difference.locator(".rationale").fill("Heart disease is documented with the hypertension.")
    page.click("#reconcile")

    expect(page.locator("#messages li")).to_contain_text("Reconciled")
    expect(page.locator("#accuracy")).to_have_text("coder accuracy 80%")
    expect(page.locator("#final-head")).to_be_visible()
    expect(page.locator("#side-by-side tr.differs")).to_contain_text("I11.9")
    expect(page.locator("#audits tr")).to_have_count(0)
    if save_to := os.environ.get("SAVE_SCREENSHOTS"):  # SAVE_SCREENSHOTS=docs/img
        page.set_viewport_size({"width": 1400, "height": 640})
        page.screenshot(path=str(Path(save_to, "reconciliation.png")), full_page=True)


def test_a_coder_codes_an_auditor_audits_blind_and_the_coder_reads_the_rationale(
    browser: Browser, coding: Coding
) -> None:
    watched = Watched()
    coder = watched.watch(browser.new_page())
    auditor = watched.watch(browser.new_page())

    _code_on_the_workbench(coder, coding)
    expect(coder.locator("#feedback tr")).to_have_count(0)
    _deliver(coding.app, AuditTaskCreated(
        audit_id="audit-1", encounter_key=KEY, hospital_id="mercy", task_id="task-1",
        coder_id="coder-ava", vendor_id="northstar", pool_id="northstar-pro", due_at=DUE,
        rule="new_coder", reason="0 of 30 audits done", credentials=["CPC"],
    ))  # fmt: skip
    _audit_blind_and_reconcile(auditor, coding)
    coder.click("#load")

    feedback = coder.locator("#feedback tr")
    expect(feedback).to_have_count(1)
    expect(feedback).to_contain_text("I10 changed to I11.9")
    expect(feedback).to_contain_text("Heart disease is documented with the hypertension.")
    expect(feedback).to_contain_text("80%")
    assert watched.problems == []


def test_the_scorecard_page_shows_the_coders_month(browser: Browser, coding: Coding) -> None:
    watched = Watched()
    page = watched.watch(browser.new_page())
    _code_on_the_workbench(page, coding)

    _sign_in(page, f"{coding.url}/scorecards", coding.keys["coder-ava"], "#load")

    row = page.locator("#scorecards tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("coder-ava")
    expect(row.locator("td").nth(1)).to_have_text("1")  # coded
    expect(row.locator("td").nth(3)).to_have_text("–")  # not audited yet
    assert watched.problems == []
