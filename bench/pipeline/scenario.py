"""A fresh hospital, vendor, pools and coder per run, so no run sees another's data.

Built from the demo's data (`deploy/demo/data.json`): the same payer and sample encounters,
each pushed many times under new external ids, each coded with the demo's answer.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from deploy.demo.driver import DATA

# Pools big enough that no encounter waits for capacity: backlogs are another benchmark's.
POOL_CAPACITY = 100_000  # the largest capacity the API accepts


def bench_data(run_id: str) -> dict[str, Any]:
    """The demo's data with the hospital, vendor, pools and coder renamed for this run."""
    data: dict[str, Any] = json.loads(DATA.read_text())
    hospital_id = f"bench-{run_id}"
    vendor_id = f"bench-{run_id}"
    data["hospital"] |= {"id": hospital_id, "name": f"Benchmark hospital {run_id}"}
    renamed = {pool["id"]: f"{vendor_id}-{i}" for i, pool in enumerate(data["pools"])}
    for pool in data["pools"]:
        pool |= {
            "id": renamed[pool["id"]],
            "vendor_id": vendor_id,
            "hospitals": [hospital_id],
            "capacity": POOL_CAPACITY,
        }
    for i, coder in enumerate(data["coders"]):
        coder |= {
            "id": f"{vendor_id}-coder-{i}",
            "vendor_id": vendor_id,
            "pools": [renamed[p] for p in coder["pools"]],
        }
    return data


def encounter(data: dict[str, Any], run_id: str, i: int) -> dict[str, Any]:
    """The i-th encounter of the run: a demo sample under an external id of its own."""
    samples = data["encounters"]
    document: dict[str, Any] = copy.deepcopy(samples[i % len(samples)]["encounter"])
    document["external_id"] = f"BENCH-{run_id}-{i:07d}"
    return document


def answer(data: dict[str, Any], i: int) -> dict[str, Any]:
    """The codes the simulated coder submits for the i-th encounter."""
    samples = data["encounters"]
    coding: dict[str, Any] = samples[i % len(samples)]["coding"]
    return coding


def encounter_key(data: dict[str, Any], external_id: str) -> str:
    return f"{data['hospital']['id']}:{external_id}"
