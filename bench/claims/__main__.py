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
from bench.claims.service_path import run_service_path
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
    ceiling, ok = pyx12_seconds(text)

    build, scrubbed = t1 - t0, t2 - t1
    print(
        f"domain batch: {n} claims, {text.count('~')} segments, {len(text) / 1024:.0f} KiB, "
        f"{len(findings)} findings, pyx12 valid={ok}"
    )
    print(f"  build_837:              {build:7.2f} s  {n / build:9.0f} claims/s")
    print(f"  scrub (pyx12 + rules):  {scrubbed:7.2f} s  {n / scrubbed:9.0f} claims/s")
    print(f"  pyx12 alone (ceiling):  {ceiling:7.2f} s  {n / ceiling:9.0f} claims/s")


def service(n: int, label: str, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as var:
        result = asyncio.run(run_service_path(n, database_url, Path(var)))
    claims = [claim_from_coded_encounter(doc) for doc in result.documents]
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "ACMEHLTH", WHEN)
    ceiling, ok = pyx12_seconds(text)
    rate, ceiling_rate = n / result.seconds, len(claims) / ceiling
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items()))
    print(f"service path on {label}: {n} coded encounters → {statuses}")
    print(f"  build+scrub+exchange+record: {result.seconds:7.2f} s  {rate:9.0f} claims/s")
    print(
        f"  pyx12, same claims, one file: {ceiling:7.2f} s  {ceiling_rate:9.0f} claims/s"
        f"  (valid={ok})"
    )
    print(f"  ratio: {rate / ceiling_rate:.3f}")


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
