"""python -m services.claims.corpus --out DIR

Writes one 837 per example file in services/claims/examples (each file's encounters become
one transaction set), so the writer's output can be checked by pyx12 and by people.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from services.claims.domain import (
    Claim,
    InMemoryControlNumbers,
    build_837,
    claim_from_coded_encounter,
)

EXAMPLES = Path(__file__).parent / "examples"


@dataclass(frozen=True)
class ExampleSet:
    name: str
    description: str
    created: datetime
    sender_id: str
    receiver_id: str
    encounters: list[dict[str, Any]]

    def claims(self) -> list[Claim]:
        return [claim_from_coded_encounter(doc) for doc in self.encounters]


def load_examples(folder: Path = EXAMPLES) -> list[ExampleSet]:
    sets = []
    for path in sorted(folder.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        sets.append(
            ExampleSet(
                name=path.stem,
                description=raw.get("description", ""),
                created=datetime.fromisoformat(raw["created"]),
                sender_id=raw["sender_id"],
                receiver_id=raw["receiver_id"],
                encounters=raw["encounters"],
            )
        )
    return sets


def write_corpus(out: Path, folder: Path = EXAMPLES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    control = InMemoryControlNumbers()
    written = []
    for example in load_examples(folder):
        text = build_837(
            example.claims(), control, example.sender_id, example.receiver_id, example.created
        )
        path = out / f"{example.name}.837"
        path.write_text(text, encoding="ascii")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.claims.corpus")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in write_corpus(args.out):
        print(path)


if __name__ == "__main__":
    main()
