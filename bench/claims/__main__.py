"""python -m bench.claims [--claims N] [--service-claims N]

1. The domain alone: build and scrub one N-claim batch; pyx12 alone on the same file.
2. The service path on the real database (SQLite, and PostgreSQL when DATABASE_URL is set):
   coded events → claims built, scrubbed, batched, exchanged with the simulated payer and
   recorded, beside pyx12 validating the same claims as one file, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bench.claims.ceiling import pyx12_seconds
from bench.claims.service_path import Timed, run_service_path
from services.claims.corpus import load_examples
from services.claims.domain import (
    Claim,
    InMemoryControlNumbers,
    build_837,
    check_diagnosis,
    claim_from_coded_encounter,
    scrub,
)

WHEN = datetime(2026, 3, 23, 9, 0)


def batch(n: int) -> list[Claim]:
    examples = [c for example in load_examples() for c in example.claims()]
    claims = []
    for i in range(n):
        c = examples[i % len(examples)]
        pcn = f"B{i:07d}"
        lines = tuple(replace(ln, line_id=f"{pcn}-{k}") for k, ln in enumerate(c.lines, start=1))
        claims.append(replace(c, patient_control_number=pcn, lines=lines))
    return claims


def domain(n: int) -> None:
    claims = batch(n)
    t0 = time.perf_counter()
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "CLEARHOUSE1", WHEN)
    t1 = time.perf_counter()
    findings = scrub(text, claims)
    t2 = time.perf_counter()
    ceiling = pyx12_seconds(text)

    build, scrubbed = t1 - t0, t2 - t1
    print(
        f"domain batch: {n} claims, {text.count('~')} segments, {len(text) / 1024:.0f} KiB, "
        f"{len(findings)} findings, pyx12 valid={ceiling.valid}"
    )
    print(f"  build_837:              {build:7.2f} s  {n / build:9.0f} claims/s")
    print(f"  scrub (pyx12 + rules):  {scrubbed:7.2f} s  {n / scrubbed:9.0f} claims/s")
    print(
        f"  pyx12 alone (ceiling):  {ceiling.seconds:7.2f} s  {n / ceiling.seconds:9.0f} claims/s"
    )


def service(n: int, label: str, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as var:
        result = asyncio.run(run_service_path(n, database_url, Path(var)))
    claims = [claim_from_coded_encounter(doc) for doc in result.documents]
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "ACMEHLTH", WHEN)
    ceiling = pyx12_seconds(text)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items()))
    consume, submit = result.consume, result.submit
    total = Timed(consume.seconds + submit.seconds, consume.cpu_seconds + submit.cpu_seconds)
    print(f"service path on {label}: {n} coded encounters -> {statuses}")
    print(
        f"  {'':<36} {'wall s':>7} {'claims/s':>9} {'CPU s':>7} {'claims/CPU s':>13} {'ratio':>6}"
    )
    top = Timed(ceiling.seconds, ceiling.cpu_seconds)
    _row("consume: build + rules + record", n, consume, top, len(claims))
    _row("submit: batch + pyx12 + payer + record", n, submit, top, len(claims))
    _row("claims stage (both)", n, total, top, len(claims))
    _row(f"ceiling: pyx12 over the {len(claims)} as one file", len(claims), top, top, len(claims))
    print(f"  (ratio = claims/s over the ceiling's, wall and CPU; pyx12 valid={ceiling.valid})")


def _row(label: str, n: int, t: Timed, ceiling: Timed, ceiling_n: int) -> None:
    wall = (n / t.seconds) / (ceiling_n / ceiling.seconds)
    cpu = (n / t.cpu_seconds) / (ceiling_n / ceiling.cpu_seconds)
    print(
        f"  {label:<36} {t.seconds:7.2f} {n / t.seconds:9.0f} {t.cpu_seconds:7.2f} "
        f"{n / t.cpu_seconds:13.0f} {wall:.2f}/{cpu:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.claims")
    parser.add_argument("--claims", type=int, default=1000, help="domain batch size")
    parser.add_argument("--service-claims", type=int, default=1000, help="service path claims")
    args = parser.parse_args()
    # a running service loads the ICD-10-CM tables once at start-up, not per batch
    check_diagnosis("E11.9", WHEN.date())
    domain(args.claims)
    service(args.service_claims, "SQLite", None)
    if os.environ.get("DATABASE_URL"):
        service(args.service_claims, "PostgreSQL", os.environ["DATABASE_URL"])


if __name__ == "__main__":
    main()
