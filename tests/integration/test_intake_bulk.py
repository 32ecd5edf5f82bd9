"""Bulk NDJSON files pushed with `python -m services.intake push` to a real intake server."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.intake.files import ndjson
from services.intake.app import create_app
from tests.conftest import REPO, Stack
from tests.integration.intake_app import ADMIN, DEMO, FIXTURES, free_port, served, settings

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def intake(stack: Stack, namespace: str, tmp_path: Path) -> Iterator[str]:
    if not stack.database_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    app = create_app(settings(stack, namespace, tmp_path), frozenset({"api", "consumer"}))
    with served(app, free_port()) as url:
        yield url


def _hospital(url: str, **intake_settings: Any) -> str:
    key = httpx.post(f"{url}/v1/admin/hospitals", json=DEMO["hospital"], headers=ADMIN)
    if intake_settings:
        path = f"{url}/v1/admin/hospitals/{DEMO['hospital']['id']}/intake-settings"
        httpx.put(path, json=intake_settings, headers=ADMIN).raise_for_status()
    return str(key.json()["api_key"])


def _push(url: str, key: str, *files: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "services.intake", "push", *map(str, files), "--url", url]
    return subprocess.run(
        [*command, "--api-key", key, "--poll", "0.2"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_10000_line_file_with_1_percent_bad_lines_reports_exactly_those(
    intake: str, tmp_path: Path
) -> None:
    key = _hospital(intake)
    body, bad = ndjson(10_000, "BULKTEST", bad_every=100)
    file = tmp_path / "backlog.ndjson"
    file.write_text(body)

    first = _push(intake, key, file)
    report = [json.loads(line) for line in (tmp_path / "backlog.ndjson.errors.ndjson").open()]
    again = _push(intake, key, file)

    assert first.returncode == 1, first.stderr  # 1: some lines were refused
    assert "100%" in first.stderr and "accepted 9,900" in first.stderr
    assert "refused 100" in first.stderr
    assert len(bad) == 100
    assert {(r["line"], r["field"]) for r in report} == set(bad.items())
    assert len(report) == 100
    assert "DEMO" not in json.dumps(report) and "Maria" not in json.dumps(report)  # no values
    assert again.returncode == 1
    assert "accepted 0" in again.stderr and "duplicate 9,900" in again.stderr
    stored = httpx.get(f"{intake}/v1/encounters", params={"limit": 500}, headers={"X-API-Key": key})
    assert len(stored.json()) == 500  # the list is capped; the store holds all 9,900 once


def test_fhir_resources_one_per_line_are_read_as_one_collection(
    intake: str, tmp_path: Path
) -> None:
    rules = json.loads((FIXTURES / "intake_settings.json").read_text())
    key = _hospital(intake, **rules)
    bundle = json.loads((FIXTURES / "patient_history_transaction.json").read_text())
    resources = [copy.deepcopy(e["resource"]) for e in bundle["entry"]]
    # Bulk exports reference by Type/id, not by the Bundle's urn:uuid fullUrls.
    text = json.dumps(resources)
    for r in resources:
        text = text.replace(f'"urn:uuid:{r["id"]}"', f'"{r["resourceType"]}/{r["id"]}"')
    lines = [json.dumps(r) for r in json.loads(text)]
    broken_line = next(n for n, line in enumerate(lines, start=1) if '"DocumentReference"' in line)
    record = json.loads(lines[broken_line - 1])
    record["context"]["encounter"][0]["reference"] = "Encounter/missing"
    lines[broken_line - 1] = json.dumps(record)
    file = tmp_path / "export.ndjson"
    file.write_text("\n".join(lines) + "\n")

    pushed = _push(intake, key, file)
    report = [json.loads(line) for line in (tmp_path / "export.ndjson.errors.ndjson").open()]

    assert "accepted 3" in pushed.stderr, pushed.stderr
    assert report == [
        {
            "line": broken_line,
            "field": "context.encounter[0]",
            "message": "reference Encounter/missing does not resolve to a resource here",
        }
    ]
