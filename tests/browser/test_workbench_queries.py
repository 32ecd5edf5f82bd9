"""A coder asks the physician from the workbench: indicators picked from the chart, a leading
question refused with its reason, a compliant one sent, then withdrawn from "My queries"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CodingServer
from tests.coding_tasks import deliver_task

pytestmark = pytest.mark.browser

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())
ENCOUNTER = DEMO["encounters"][0]["encounter"]
QUOTE = "right knee primary osteoarthritis"


@pytest.fixture
def workbench(coding_server: CodingServer) -> tuple[str, str]:
    """One task on coder Ava's worklist: (coding's url, her key)."""
    key = coding_server.register("coder-ava")
    deliver_task(coding_server.app, "task-1")
    return coding_server.url, key


def _select(page: Page, document: int, text: str) -> None:
    """Select `text` in chart document `document`, as a coder's mouse would."""
    page.evaluate(
        """([document, text]) => {
            const node = document_node(document);
            function document_node(i) {
              return window.document.querySelector(`pre[data-document="${i}"]`).firstChild;
            }
            const start = node.textContent.indexOf(text);
            const range = window.document.createRange();
            range.setStart(node, start); range.setEnd(node, start + text.length);
            const selection = window.getSelection();
            selection.removeAllRanges(); selection.addRange(range);
        }""",
        [document, text],
    )


def test_a_coder_raises_a_query_from_the_workbench_and_withdraws_it(
    browser: Browser, workbench: tuple[str, str]
) -> None:
    url, key = workbench
    page = browser.new_page()
    page.goto(f"{url}/workbench")
    page.fill("#key", key)
    page.click("#load")
    page.click("text=mercy:DEMO-OV-1001")
    expect(page.locator("pre[data-document='0']")).to_contain_text(QUOTE)

    _select(page, 0, QUOTE)
    page.click("#add-indicator")
    expect(page.locator("#indicators li")).to_contain_text(f"“{QUOTE}” (document 0, at")
    page.fill("#question", "Documenting this would increase reimbursement; please clarify.")
    page.fill(
        "#options", "Primary\nPost-traumatic\nOther (please specify)\nClinically undetermined"
    )
    page.click("#send-query")
    expect(page.locator("#query-result li")).to_contain_text("QUERY_LEADING_FINANCIAL")
    expect(page.locator("#worklist tr")).to_have_count(1)  # nothing was sent

    page.fill("#question", "Please clarify the type of the right knee osteoarthritis.")
    page.click("#send-query")
    expect(page.locator("#query-result li")).to_contain_text("Sent to the hospital")
    expect(page.locator("#worklist tr")).to_have_count(0)  # waiting for the answer
    expect(page.locator("#my-queries li")).to_contain_text("open · Please clarify the type")

    page.click("#my-queries button:text('Withdraw')")
    expect(page.locator("#worklist tr")).to_have_count(1)  # back on the worklist
    expect(page.locator("#my-queries li")).to_contain_text("withdrawn")
