"""python -m bench.claims [--claims N]: build and scrub one batch; pyx12 alone as the ceiling."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import datetime

from services.claims.corpus import load_examples
from services.claims.domain import (
    Claim,
    InMemoryControlNumbers,
    build_837,
    check_diagnosis,
    scrub,
    validate_x12,
)


def batch(n: int) -> list[Claim]:
    examples = [c for example in load_examples() for c in example.claims()]
    claims = []
    for i in range(n):
        c = examples[i % len(examples)]
        pcn = f"B{i:07d}"
        lines = tuple(replace(ln, line_id=f"{pcn}-{k}") for k, ln in enumerate(c.lines, start=1))
        claims.append(replace(c, patient_control_number=pcn, lines=lines))
    return claims


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.claims")
    parser.add_argument("--claims", type=int, default=1000)
    n = parser.parse_args().claims
    claims = batch(n)
    when = datetime(2026, 3, 23, 9, 0)
    # a running service loads the ICD-10-CM tables once at start-up, not per batch
    check_diagnosis("E11.9", when.date())

    t0 = time.perf_counter()
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "CLEARHOUSE1", when)
    t1 = time.perf_counter()
    findings = scrub(text, claims)
    t2 = time.perf_counter()
    ok, errors = validate_x12(text)
    t3 = time.perf_counter()

    build, scrubbed, ceiling = t1 - t0, t2 - t1, t3 - t2
    segments = text.count("~")
    print(
        f"batch: {n} claims, {segments} segments, {len(text) / 1024:.0f} KiB, "
        f"{len(findings)} findings, pyx12 valid={ok} ({len(errors)} errors)"
    )
    print(f"build_837:             {build:7.2f} s  {n / build:9.0f} claims/s")
    print(f"scrub (pyx12 + rules): {scrubbed:7.2f} s  {n / scrubbed:9.0f} claims/s")
    print(
        f"build + scrub:         {build + scrubbed:7.2f} s  {n / (build + scrubbed):9.0f} claims/s"
    )
    print(f"pyx12 alone (ceiling): {ceiling:7.2f} s  {n / ceiling:9.0f} claims/s")


if __name__ == "__main__":
    main()
