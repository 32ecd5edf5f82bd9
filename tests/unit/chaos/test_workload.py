"""The chaos round's encounters: the demo's samples in turn, each with the codes it needs."""

from __future__ import annotations

import json

from deploy.demo.driver import DATA
from tests.chaos.workload import chaos_data


def test_encounters_cycle_the_samples_with_their_rework_codes() -> None:
    samples = json.loads(DATA.read_text())["encounters"]

    data = chaos_data(2 * len(samples), "C")

    assert [e["encounter"]["external_id"] for e in data["encounters"]][:2] == ["C-00001", "C-00002"]
    for i, item in enumerate(data["encounters"]):
        sample = samples[i % len(samples)]
        # without its rework codes, a denied sample would be denied again after every rework
        assert item.get("rework") == sample.get("rework")
        assert item["coding"] == sample["coding"]
    assert any("rework" in item for item in data["encounters"])
