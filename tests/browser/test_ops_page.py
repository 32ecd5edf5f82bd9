"""The ops page in Debian's Chromium: ops sign in with the admin token and read DNFB, the
backlog per pool, the charts and links into the Temporal UI; anyone else is refused. Assignment
runs on a real port against the stack's Temporal, on a SQLite database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from services.assignment.app import create_app
from services.assignment.db import PoolTask, VendorPool
from services.assignment.domain.ops_links import ops_queries, scoped
from services.assignment.milestones_db import EncounterMilestone
from services.assignment.settings import AssignmentSettings
from shared.db import Database
from tests.browser.chromium import serve
from tests.browser.conftest import ADMIN
from tests.browser.test_audit_workbench import Watched
from tests.conftest import ADMIN_TOKEN
from tests.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.temporal]

UI = "http://temporal-ui.example:8233"


@dataclass
class AssignmentServer:
    url: str
    prefix: str


def _milestone(key: str, age_days: float, coded_min: float | None = None) -> EncounterMilestone:
    now = datetime.now(UTC)
    return EncounterMilestone(
        encounter_key=key,
        hospital_id="mercy",
        encounter_class="professional",
        discharged_at=(now - timedelta(days=age_days)).isoformat(),
        received_at=now - timedelta(minutes=30),
        coded_at=None if coded_min is None else now - timedelta(minutes=coded_min),
    )


def _seed(session: Session) -> None:
    """Pool "pro" with 3 of its 4 places taken; three encounters not billed (one 6 days after
    discharge, past the 4-day goal), two of them coded in the last hour."""
    session.add(
        VendorPool(
            id="pro",
            vendor_id="northstar",
            name="pro",
            credentials="CPC",
            encounter_classes="professional",
            capacity=4,
        )
    )
    for n in range(3):
        session.add(PoolTask(task_id=f"task-{n}", encounter_key=f"mercy:E{n}", pool_id="pro"))
    session.add_all(
        [
            _milestone("mercy:E0", 6.5),
            _milestone("mercy:E1", 1.2, coded_min=20),
            _milestone("mercy:E2", 0.5, coded_min=5),
        ]
    )


@pytest.fixture
def assignment_server(stack: Stack, unique: str, tmp_path: Path) -> Iterator[AssignmentServer]:
    settings = AssignmentSettings(
        database_url=None,  # SQLite of its own, whatever DATABASE_URL says
        kafka_bootstrap_servers="127.0.0.1:1",  # the API alone: nothing is consumed
        temporal_address=stack.temporal,
        chartflow_namespace_prefix=unique,
        chartflow_var=tmp_path,
        admin_token=ADMIN_TOKEN,
        temporal_ui_url=UI,
    )
    app = create_app(settings, frozenset({"api"}))
    with serve(app) as url:
        db: Database = app.state.runtime.db
        db.run_sync(_seed)
        yield AssignmentServer(url, unique)


def test_ops_read_dnfb_backlog_and_charts_with_links_into_the_temporal_ui(
    browser: Browser, assignment_server: AssignmentServer
) -> None:
    watched = Watched()
    page = watched.watch(browser.new_page(viewport={"width": 1400, "height": 900}))
    page.goto(f"{assignment_server.url}/ops")
    page.fill("#token", ADMIN_TOKEN)
    page.click("#load")

    expect(page.locator("#dnfb-count")).to_have_text("3")
    expect(page.locator("#dnfb-over")).to_have_text("1")
    expect(page.locator("#dnfb-goal")).to_have_text("over the 4-day goal")
    expect(page.locator("#dnfb-oldest")).to_contain_text("mercy:E0 (6.5 d)")
    # the age chart: one bar per day of age, the one past the goal in red
    bars = page.locator("#dnfb-chart rect")
    expect(bars).to_have_count(11)
    expect(page.locator("#dnfb-chart rect[data-value='1'][fill='#c0392b']")).to_have_count(1)
    # the pool's backlog bar: 3 open tasks, its label a link to the pool's Temporal list
    expect(page.locator("#pool-chart rect[data-part='open tasks']")).to_have_attribute(
        "data-value", "3"
    )
    pool_link = page.locator("#pool-chart a[data-pool='pro']")
    expect(pool_link).to_have_count(1)
    expect(page.locator("#pool-chart")).to_contain_text("3 + 0 / 4")
    # throughput: coded per interval, both coded in the last hour
    coded = page.locator("#throughput-chart rect[fill='#3a78b5']")
    expect(coded).to_have_count(24)
    assert sum(int(v or 0) for v in coded.evaluate_all("rs => rs.map(r => r.dataset.value)")) == 2
    expect(page.locator("#turnaround-rows tr")).to_have_count(1)
    expect(page.locator("#turnaround-rows")).to_contain_text("professional")

    href = page.get_attribute("#dnfb-count", "href") or ""
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{UI}/namespaces/default/workflows"
    expected = scoped(ops_queries(datetime.now(UTC), [])["dnfb"], assignment_server.prefix)
    assert parse_qs(parts.query) == {"query": [expected]}
    pool_href = pool_link.get_attribute("href") or ""
    assert "VendorPool = 'pro'" in parse_qs(urlsplit(pool_href).query)["query"][0]
    assert watched.problems == []


def test_anyone_but_ops_is_refused(browser: Browser, assignment_server: AssignmentServer) -> None:
    page = browser.new_page()
    page.goto(f"{assignment_server.url}/ops")
    page.fill("#token", "a-coders-key-is-not-the-admin-token")
    with page.expect_response("**/v1/ops/dashboard**") as answer:
        page.click("#load")

    assert answer.value.status == 401
    expect(page.locator("#status")).to_have_text("Refused: admin token required")
    expect(page.locator("#dnfb-count")).to_have_text("–")
    expect(page.locator("#pool-chart rect")).to_have_count(0)
    url = f"{assignment_server.url}/v1/ops/dashboard"
    for headers in ({}, {"X-API-Key": "a-coders-key"}, {"Authorization": "Bearer wrong"}):
        refused = httpx.get(url, headers=headers, timeout=30)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    assert httpx.get(url, headers=ADMIN, timeout=30).status_code == 200
