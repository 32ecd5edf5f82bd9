"""`python -m services.intake push FILE…`: upload NDJSON files as bulk jobs and follow each
with a progress bar; a file's refused lines are saved next to it as FILE.errors.ndjson.

Exit status: 0 when every line was taken (accepted, a duplicate, or an encounter the
hospital's intake rule skips), 1 when some lines were refused or reported, 2 when a file
could not be pushed. The API key comes from --api-key or CHARTFLOW_API_KEY.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import httpx
from pydantic_settings import BaseSettings

BLOCK = 1 << 20


class PushSettings(BaseSettings):
    intake_url: str | None = None
    intake_port: int = 8001
    chartflow_api_key: str | None = None


def bar(out: TextIO, label: str, done: int, total: int, tail: str = "") -> None:
    width = 30
    filled = width * done // total if total else width
    percent = 100 * done // total if total else 100
    line = f"\r{label[:28]:<28} [{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {tail}"
    out.write(line)
    out.flush()


def _blocks(path: Path, out: TextIO) -> Iterator[bytes]:
    size, sent = path.stat().st_size, 0
    with path.open("rb") as file:
        while block := file.read(BLOCK):
            sent += len(block)
            bar(out, f"{path.name} upload", sent, size, f"{sent / 1e6:.1f}/{size / 1e6:.1f} MB")
            yield block


def _counts(job: dict[str, Any]) -> str:
    return (
        f"{job['lines_done']:,}/{job['lines_total']:,} lines  accepted {job['accepted']:,}  "
        f"duplicate {job['duplicate']:,}  refused {job['refused']:,}"
    )


def push(client: httpx.Client, path: Path, poll: float, out: TextIO) -> dict[str, Any]:
    """Upload one file, follow its job to the end, save its error report; the final job."""
    answer = client.post(
        "/v1/bulk/encounters",
        content=_blocks(path, out),
        headers={"Content-Type": "application/x-ndjson"},
    )
    out.write("\n")
    if answer.status_code != 202:
        raise RuntimeError(f"{path}: upload answered {answer.status_code}: {answer.text[:300]}")
    url = answer.headers["Location"]
    while True:
        job: dict[str, Any] = client.get(url).raise_for_status().json()
        bar(out, f"{path.name} intake", job["lines_done"], job["lines_total"], _counts(job))
        if job["status"] == "done":
            break
        time.sleep(poll)
    out.write("\n")
    if job["errors"]:
        report = path.with_name(path.name + ".errors.ndjson")
        report.write_text(client.get(job["errors_url"]).raise_for_status().text)
        out.write(f"{path.name}: {job['errors']:,} errors; report in {report}\n")
    return job


def main(argv: list[str]) -> int:
    settings = PushSettings()
    parser = argparse.ArgumentParser(prog="python -m services.intake push")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--url", default=settings.intake_url or f"http://127.0.0.1:{settings.intake_port}"
    )
    parser.add_argument("--api-key", default=settings.chartflow_api_key)
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between progress reads")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("the hospital's API key is needed: --api-key or CHARTFLOW_API_KEY")
    refused, failed = 0, 0
    headers = {"X-API-Key": args.api_key}
    with httpx.Client(base_url=args.url, headers=headers, timeout=300) as client:
        for path in args.files:
            try:
                job = push(client, path, args.poll, sys.stderr)
                refused += job["refused"] + job["errors"]
            except (OSError, RuntimeError, httpx.HTTPError) as exc:
                sys.stderr.write(f"\n{path}: not pushed: {exc}\n")
                failed += 1
    return 2 if failed else 1 if refused else 0
