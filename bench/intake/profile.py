"""python -m bench.intake.profile [--lines N]: where the intake process spends its time during a
bulk push, by sampling every thread's stack (the API, the bulk workers in the database threads,
the outbox relay) every 2 ms. Prints the share of samples per function (self and cumulative).

Needs the stack's PostgreSQL and Kafka, like `python -m bench.intake`.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
import uuid
from io import StringIO
from pathlib import Path
from types import FrameType

import httpx

from bench.intake.files import DEMO, ndjson
from bench.intake.namespace import bench_namespace
from services.intake.app import create_app
from services.intake.push_cli import push
from services.intake.settings import IntakeSettings
from tests.integration.intake_app import free_port, served


class Sampler(threading.Thread):
    def __init__(self, every: float = 0.002) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.running = True
        self.self_time: collections.Counter[str] = collections.Counter()
        self.total: collections.Counter[str] = collections.Counter()
        self.samples = 0

    def run(self) -> None:
        skip = {threading.get_ident(), threading.main_thread().ident}  # the sampler, the client
        while self.running:
            for ident, frame in sys._current_frames().items():
                if ident in skip:
                    continue
                names = []
                f: FrameType | None = frame
                while f is not None:
                    code = f.f_code
                    names.append(f"{Path(code.co_filename).name}:{code.co_name}")
                    f = f.f_back
                if names[0].endswith((":select", ":wait", ":_worker", ":poll", ":read")):
                    continue  # an idle thread waiting for work
                self.samples += 1
                self.self_time[names[0]] += 1
                for name in set(names):
                    self.total[name] += 1
            time.sleep(self.every)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake.profile")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        raise SystemExit("needs the stack: deploy/local/stack.py up --postgres, then its env")
    var = Path(tempfile.mkdtemp(prefix="profile-intake-"))
    body, _ = ndjson(args.lines, "PROFILE")
    file = var / "encounters.ndjson"
    file.write_text(body)
    sampler = Sampler()
    with bench_namespace(f"prof{uuid.uuid4().hex[:8]}.") as namespace:
        settings = IntakeSettings(
            chartflow_namespace_prefix=namespace["CHARTFLOW_NAMESPACE_PREFIX"],
            chartflow_var=var,
            admin_token=namespace["ADMIN_TOKEN"],
            kafka_credentials_file=Path(namespace["KAFKA_CREDENTIALS_FILE"]),
            log_json=True,
        )
        with served(create_app(settings, frozenset({"api", "consumer"})), free_port()) as url:
            admin = {"Authorization": f"Bearer {namespace['ADMIN_TOKEN']}"}
            key = httpx.post(f"{url}/v1/admin/hospitals", json=DEMO["hospital"], headers=admin)
            with httpx.Client(
                base_url=url, headers={"X-API-Key": key.json()["api_key"]}, timeout=300
            ) as client:
                sampler.start()
                started = time.perf_counter()
                job = push(client, file, 0.05, StringIO())
                elapsed = time.perf_counter() - started
                sampler.running = False
    print(
        f"{job['accepted']:,} accepted in {elapsed:.2f} s ({job['accepted'] / elapsed:.0f}/s); "
        f"{sampler.samples:,} busy samples; load average {os.getloadavg()[0]:.1f}"
    )
    for title, counter in (("self", sampler.self_time), ("cumulative", sampler.total)):
        print(f"\n{title}:")
        for name, count in counter.most_common(args.top):
            print(f"  {100 * count / max(1, sampler.samples):5.1f}%  {name}")


if __name__ == "__main__":
    main()
