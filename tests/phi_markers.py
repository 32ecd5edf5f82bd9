"""An encounter whose every PHI field holds a unique marker, and where to look for them."""

from __future__ import annotations

import copy
import os
import random
import re
import string
from pathlib import Path
from typing import Any


def _word(rng: random.Random, length: int = 10) -> str:
    return "Qz" + "".join(rng.choice(string.ascii_lowercase) for _ in range(length))


def marked_encounter(
    base: dict[str, Any], seed: int | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """`base` (an encounter with a subscriber) with a marker in every PHI field.

    Returns the encounter and the markers by field. The birth dates are rare dates (between
    1901 and 1929, which nothing else in the platform uses); they are searched as ISO dates and
    as X12 dates (CCYYMMDD).
    """
    rng = random.Random(seed)
    encounter = copy.deepcopy(base)
    markers: dict[str, str] = {}

    def person(prefix: str, target: dict[str, Any]) -> None:
        markers[f"{prefix}.first_name"] = target["first_name"] = _word(rng)
        markers[f"{prefix}.last_name"] = target["last_name"] = _word(rng)
        born = f"19{rng.randint(1, 29):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        markers[f"{prefix}.birth_date"] = target["birth_date"] = born
        # As the 837's DMG segment writes it: eight digits alone turn up by chance in big files.
        markers[f"{prefix}.birth_date_x12"] = "D8*" + born.replace("-", "")
        address = target["address"]
        markers[f"{prefix}.address.line1"] = word = _word(rng)
        address["line1"] = f"12 {word} St"
        markers[f"{prefix}.address.line2"] = address["line2"] = _word(rng)
        markers[f"{prefix}.address.city"] = address["city"] = _word(rng, 8)

    person("patient", encounter["patient"])
    person("subscriber", encounter["coverage"]["subscriber"])
    markers["coverage.member_id"] = encounter["coverage"]["member_id"] = _word(rng, 12).upper()
    for n, document in enumerate(encounter["documents"]):
        markers[f"documents.{n}.text"] = word = _word(rng)
        document["text"] = f"{document['text']} Seen with {word}."
    encounter["external_id"] = f"PHI-{_word(rng, 8)}"
    return encounter, markers


class Search:
    """Finds any of the markers in bytes, case-insensitively (X12 and logs may change case).

    Fast enough for a PostgreSQL data directory: one pass finds every `qz` (each word marker
    starts so), then only those positions are compared; the dates are searched as they are.
    """

    def __init__(self, markers: dict[str, str]) -> None:
        self.words: dict[bytes, str] = {}
        self.others: dict[bytes, str] = {}
        for value in markers.values():
            low = value.lower().encode()
            (self.words if low.startswith(b"qz") else self.others)[low] = value
        self.lengths = sorted({len(w) for w in self.words})

    def hits(self, data: bytes) -> set[str]:
        low = data.lower()
        found = {self.others[o] for o in self.others if o in low}
        for at in re.finditer(b"qz", low):
            for n in self.lengths:
                if (word := low[at.start() : at.start() + n]) in self.words:
                    found.add(self.words[word])
        return found

    def in_files(self, root: Path) -> dict[str, set[str]]:
        """Every file under `root` (recursively) that holds a marker, with the markers."""
        hits: dict[str, set[str]] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if found := self.hits(written(path)):
                hits[str(path)] = found
        return hits


def written(path: Path) -> bytes:
    """What the file holds, without its holes (Kafka preallocates sparse 10 MB index files;
    a hole is zeros by definition, so skipping it skips nothing)."""
    chunks = []
    try:
        with path.open("rb") as f:
            fd, end, at = f.fileno(), os.fstat(f.fileno()).st_size, 0
            while at < end:
                try:
                    at = os.lseek(fd, at, os.SEEK_DATA)
                except OSError:  # no data past `at`
                    break
                hole = os.lseek(fd, at, os.SEEK_HOLE)
                f.seek(at)
                chunks.append(f.read(hole - at))
                at = hole
    except FileNotFoundError:  # removed while we walk (a segment being deleted)
        return b""
    return b"".join(chunks)


def holds(root: Path, text: str) -> bool:
    """Some file under `root` holds `text` as it is."""
    needle = text.encode()
    return any(needle in written(p) for p in root.rglob("*") if p.is_file())
