"""NDJSON bulk files for the benchmark and tests: demo encounters with unique external ids, and
bad lines at known places (each with exactly one error, whose field is known)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())

#: How the bad lines are broken, in turn: (what is done to the line, the field the report names).
BREAKAGES = (
    ("truncated JSON", "line"),
    ("birth date as MM/DD/YYYY", "patient.birth_date"),
    ("no documents", "documents"),
    ("NPI with letters", "providers[0].npi"),
    ("unknown encounter class", "encounter_class"),
)


def encounter_line(n: int, prefix: str) -> dict[str, Any]:
    item = DEMO["encounters"][n % len(DEMO["encounters"])]["encounter"]
    encounter: dict[str, Any] = copy.deepcopy(item)
    encounter["external_id"] = f"{prefix}-{n:07d}"
    return encounter


def broken_line(n: int, prefix: str, kind: int) -> str:
    encounter = encounter_line(n, prefix)
    if kind == 0:
        return json.dumps(encounter)[:-40]
    if kind == 1:
        encounter["patient"]["birth_date"] = "04/12/1968"
    elif kind == 2:
        encounter["documents"] = []
    elif kind == 3:
        encounter["providers"][0]["npi"] = "12345ABCDE"
    else:
        encounter["encounter_class"] = "telepathy"
    return json.dumps(encounter)


def ndjson(lines: int, prefix: str, bad_every: int = 0) -> tuple[str, dict[int, str]]:
    """The file, and {line number: field the error report must name} of its bad lines."""
    out, bad = [], {}
    for n in range(1, lines + 1):
        if bad_every and n % bad_every == 0:
            kind = (n // bad_every) % len(BREAKAGES)
            out.append(broken_line(n, prefix, kind))
            bad[n] = BREAKAGES[kind][1]
        else:
            out.append(json.dumps(encounter_line(n, prefix)))
    return "\n".join(out) + "\n", bad
