"""A coder codes a task on the workbench, an auditor re-codes it blind and reconciles it on the
auditor workbench, and the coder reads the auditor's rationale: in Debian's Chromium, failing
on any console error, failed request or error answer, and on any element that is missing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.browser.conftest import CodingServer
from tests.coding_tasks import ENCOUNTER_KEY, deliver_audit, deliver_task

pytestmark = pytest.mark.browser


@dataclass
class Watched:
    """What went wrong on a page: console errors, uncaught errors, failed or refused requests."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.set_default_timeout(20_000)  # a missing element fails in seconds, even when busy
        page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda r: (
                r.status >= 400 and self.problems.append(f"{r.status}: {r.request.method} {r.url}")
            ),
        )
        return page

    def _failed(self, request: Request) -> None:
        # a fetch still running when the test opens the next page is cancelled by the browser
        # (net::ERR_ABORTED): the test's doing, not the app's; refused or reset ones count
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.method} {request.url} ({request.failure})")


@pytest.fixture
def coding(coding_server: CodingServer) -> tuple[CodingServer, dict[str, str]]:
    """Coder Ava with one task on her worklist, and auditor Olga of her vendor."""
    keys = {person: coding_server.register(person, role)
            for person, role in (("coder-ava", "coder"), ("auditor-olga", "auditor"))}  # fmt: skip
    deliver_task(coding_server.app, "task-1")
    return coding_server, keys


def _sign_in(page: Page, url: str, key: str, button: str) -> None:
    page.goto(url)
    page.fill("#key", key)
    page.click(button)


def _code_on_the_workbench(page: Page, url: str, key: str) -> None:
    _sign_in(page, f"{url}/workbench", key, "#load")
    page.click(f"text={ENCOUNTER_KEY}")
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


def _audit_blind_and_reconcile(page: Page, url: str, key: str) -> None:
    _sign_in(page, f"{url}/audits", key, "#load")
    page.click(f"#audits tr:has-text('{ENCOUNTER_KEY}')")
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
    browser: Browser, coding: tuple[CodingServer, dict[str, str]]
) -> None:
    server, keys = coding
    watched = Watched()
    coder = watched.watch(browser.new_page())
    auditor = watched.watch(browser.new_page())

    _code_on_the_workbench(coder, server.url, keys["coder-ava"])
    expect(coder.locator("#feedback tr")).to_have_count(0)
    deliver_audit(server.app, "audit-1", "task-1", "coder-ava")
    _audit_blind_and_reconcile(auditor, server.url, keys["auditor-olga"])
    coder.click("#load")

    feedback = coder.locator("#feedback tr")
    expect(feedback).to_have_count(1)
    expect(feedback).to_contain_text("I10 changed to I11.9")
    expect(feedback).to_contain_text("Heart disease is documented with the hypertension.")
    expect(feedback).to_contain_text("80%")
    assert watched.problems == []


def test_the_scorecard_page_shows_the_coders_month(
    browser: Browser, coding: tuple[CodingServer, dict[str, str]]
) -> None:
    server, keys = coding
    watched = Watched()
    page = watched.watch(browser.new_page())
    _code_on_the_workbench(page, server.url, keys["coder-ava"])

    _sign_in(page, f"{server.url}/scorecards", keys["coder-ava"], "#load")

    row = page.locator("#scorecards tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("coder-ava")
    expect(row.locator("td").nth(1)).to_have_text("1")  # coded
    expect(row.locator("td").nth(3)).to_have_text("–")  # not audited yet
    expect(row.locator("td").nth(9)).to_have_text("0")  # no physician query
    assert watched.problems == []
