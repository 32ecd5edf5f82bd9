"""python -m bench.intake [--lines N]: bulk NDJSON intake, end to end, beside the bare insert rate;
and a 500-encounter (~5 MB) FHIR Bundle posted to the same service.

Needs the stack's PostgreSQL and Kafka (`python3 deploy/local/stack.py up --postgres` then
`eval "$(python3 deploy/local/stack.py env)"`). Starts an intake service (`run`: API, bulk
workers and the outbox relay publishing to Kafka) on a fresh database, pushes an N-line file
through `python -m services.intake push`'s code, and times upload → job done. The ceiling is
the same database inserting the same rows (encounter + outbox event, already encrypted) with
nothing else: 1,000 rows per transaction, psycopg executemany.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.intake.files import DEMO, ndjson
from bench.intake.namespace import bench_namespace
from services.intake.domain.fhir_mapping import read_bundle
from services.intake.domain.rules import HospitalIntakeSettings
from services.intake.push_cli import push
from services.intake.settings import IntakeSettings
from tests.fixtures.fhir.make_bundles import large_bundle

REPO = Path(__file__).resolve().parents[2]
FHIR = {"Content-Type": "application/fhir+json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_intake(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.intake", "run"], cwd=REPO, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"intake did not start: {log.read_text()[-2000:]}")


def bare_inserts(url: str, rows: int) -> float:
    """Seconds for the database alone to insert `rows` encounters and outbox events."""
    engine = create_engine(url)
    # Random base64 of the sizes of an encrypted document and event: incompressible, as they are.
    sample = base64.urlsafe_b64encode(os.urandom(1275)).decode()
    payload = base64.urlsafe_b64encode(os.urandom(2475)).decode()
    now = datetime.now(UTC)
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE bench_encounter (LIKE encounter INCLUDING ALL)"))
            c.execute(text("CREATE TABLE bench_outbox (LIKE outbox_event INCLUDING ALL)"))
        started = time.perf_counter()
        for first in range(0, rows, 1000):
            ids = [str(uuid.uuid4()) for _ in range(min(1000, rows - first))]
            encounters = [
                {"id": i, "h": "bench", "x": f"B{first + n}", "k": f"bench:B{first + n}",
                 "c": "professional", "d": sample, "t": now}
                for n, i in enumerate(ids)
            ]  # fmt: skip
            events = [{"e": i, "k": f"bench:{i}", "p": payload, "t": now} for i in ids]
            with engine.begin() as c:
                c.execute(
                    text(
                        "INSERT INTO bench_encounter (id, hospital_id, external_id, encounter_key,"
                        " encounter_class, document, status, claim_history, received_at,"
                        " updated_at) VALUES (:id, :h, :x, :k, :c, :d, 'received', '[]', :t, :t)"
                    ),
                    encounters,
                )
                c.execute(
                    text(
                        "INSERT INTO bench_outbox (event_id, topic, key, payload, created_at)"
                        " VALUES (:e, 'bench', :k, :p, :t)"
                    ),
                    events,
                )
        return time.perf_counter() - started
    finally:
        with engine.begin() as c:
            c.execute(text("DROP TABLE IF EXISTS bench_encounter, bench_outbox"))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake")
    parser.add_argument("--lines", type=int, default=20_000)
    lines = parser.parse_args().lines
    if not os.environ.get("DATABASE_URL") or not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        raise SystemExit("needs the stack: deploy/local/stack.py up --postgres, then its env")
    port, prefix = free_port(), f"bench{uuid.uuid4().hex[:8]}."
    var = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    database = IntakeSettings(chartflow_namespace_prefix=prefix).service_database_url()
    body, _ = ndjson(lines, "BENCH")
    file = var / "encounters.ndjson"
    file.write_text(body)
    with bench_namespace(prefix) as namespace:
        env = {**os.environ, **namespace, "INTAKE_PORT": str(port), "CHARTFLOW_VAR": str(var),
               "HL7_PORT": "0"}  # fmt: skip
        process = start_intake(env, port, var / "intake.log")
        try:
            base = f"http://127.0.0.1:{port}"
            admin = {"Authorization": f"Bearer {namespace['ADMIN_TOKEN']}"}
            key = httpx.post(f"{base}/v1/admin/hospitals", json=DEMO["hospital"], headers=admin)
            with httpx.Client(base_url=base, headers={"X-API-Key": key.json()["api_key"]},
                              timeout=300) as client:  # fmt: skip
                started = time.perf_counter()
                job = push(client, file, 0.05, StringIO())
                elapsed = time.perf_counter() - started
                bundle = json.dumps(large_bundle()).encode()
                fhir_started = time.perf_counter()
                answer = client.post("/fhir/Bundle", content=bundle, headers=FHIR)
                fhir_elapsed = time.perf_counter() - fhir_started
        finally:
            process.terminate()
            process.wait(30)
    bare = bare_inserts(database, lines)
    accepted, size = job["accepted"], len(body) / 1e6
    print(f"file: {lines:,} lines, {size:.1f} MB; accepted {accepted:,}, refused {job['refused']}")
    print(
        f"bulk intake, upload to job done: {elapsed:6.2f} s {accepted / elapsed:7.0f} encounters/s"
    )
    print(f"bare inserts (the ceiling):      {bare:6.2f} s {lines / bare:7.0f} encounters/s")
    created = sum(1 for e in answer.json()["entry"] if e["response"]["status"] == "201 Created")
    read_started = time.perf_counter()
    read_bundle(json.loads(bundle), HospitalIntakeSettings())
    read = time.perf_counter() - read_started
    print(
        f"FHIR Bundle, {len(bundle) / 1e6:.1f} MB, {created} encounters created: "
        f"{fhir_elapsed:.2f} s (reading and validating it alone: {read:.2f} s)"
    )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
