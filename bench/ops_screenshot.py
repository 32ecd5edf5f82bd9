"""python -m bench.ops_screenshot [--out docs/img/ops-page.png] [--window 60] [--every S]

A screenshot of assignment's ops page (`/ops`) as ops see it, in Debian's Chromium driven by
Playwright: signed in with the admin token, the figures loaded. Run it while
`python -m bench.pipeline` runs to see the platform under load; `--every S` keeps taking one
every S seconds (the file is replaced) until interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from shared.secrets import resolve_admin_token
from shared.settings import ChartflowSettings
from tests.browser.chromium import ARGS, CHROMIUM


def parser() -> argparse.ArgumentParser:
    port = os.environ.get("ASSIGNMENT_PORT", "8002")
    p = argparse.ArgumentParser(
        prog="python -m bench.ops_screenshot",
        description="A screenshot of assignment's ops page, signed in as ops.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--url", default=f"http://127.0.0.1:{port}", help="assignment's address")
    p.add_argument("--out", type=Path, default=Path("docs/img/ops-page.png"))
    p.add_argument("--window", type=int, default=10, help="minutes of throughput shown")
    p.add_argument("--width", type=int, default=1400, help="viewport width (px)")
    p.add_argument("--every", type=float, help="take one every this many seconds")
    p.add_argument("--admin-token", help="default: ADMIN_TOKEN or <var>/secrets/admin-token")
    return p


def screenshot(url: str, admin_token: str, out: Path, window: int, width: int) -> None:
    """Sign in on the page, wait for the figures, save the whole page as a PNG."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(f"{url}/ops?window={window}")
            page.fill("#token", admin_token)
            page.click("#load")
            page.wait_for_selector("body[data-loaded]")
            if page.get_attribute("body", "data-loaded") == "refused":
                raise SystemExit(f"refused: {page.inner_text('#status')}")
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = ChartflowSettings()
    token = resolve_admin_token(args.admin_token or settings.admin_token, settings.chartflow_var)
    while True:
        screenshot(args.url, token, args.out, args.window, args.width)
        print(f"{time.strftime('%H:%M:%S')} {args.out}", file=sys.stderr)
        if args.every is None:
            return
        time.sleep(args.every)


if __name__ == "__main__":
    main()
