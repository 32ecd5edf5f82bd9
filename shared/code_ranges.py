"""Code ranges as the ICD-10-CM tabular list writes them in its notes.

Notes name codes in parentheses: "(K51.-)" is K51 and everything under it, "(E08-E13)" the
categories E08 through E13, "(A04.0-A04.4)" a subcategory range, "(I63.3-I63.5-)" the same with
the trailing dash, "(E00-E07, E15-E16)" several of those. Parenthesised groups carrying a
qualifier ("(E08-E13 with .42)", "(V01-V09 with 5th character 9)") are skipped on purpose:
reading them as the whole range would raise conflicts the classification does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?"
_ITEM = re.compile(rf"({_CODE})-?(?:\s*-\s*({_CODE})-?)?")
_GROUP = re.compile(r"\(([^()]*)\)")


def strip_dot(code: str) -> str:
    return code.replace(".", "")


@dataclass(frozen=True, slots=True)
class CodeRange:
    """Inclusive range of codes compared at the precision of its endpoints (dots removed)."""

    low: str
    high: str

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        bare = strip_dot(code)
        return bare[: len(self.low)] >= self.low and bare[: len(self.high)] <= self.high

    def __str__(self) -> str:
        low, high = _dotted(self.low), _dotted(self.high)
        return low if low == high else f"{low}-{high}"


def _dotted(bare: str) -> str:
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def parse_range_item(item: str) -> CodeRange | None:
    """One comma-separated item: "K51.-", "E08-E13", "A04.0-A04.4", "T88.7"."""
    match = _ITEM.fullmatch(item.strip())
    if match is None:
        return None
    low = strip_dot(match.group(1))
    high = strip_dot(match.group(2)) if match.group(2) else low
    return CodeRange(low, high)


def ranges_in_note(note: str) -> list[CodeRange]:
    """Every range a note names in parentheses made only of codes and ranges."""
    found: list[CodeRange] = []
    for group in _GROUP.findall(note):
        items = [parse_range_item(part) for part in group.split(",")]
        if items and all(item is not None for item in items):
            found.extend(item for item in items if item is not None)
    return found


def ranges_in_text(text: str) -> list[CodeRange]:
    """Ranges named by any line of a multi-line note such as a "code first" list."""
    found: list[CodeRange] = []
    for line in text.splitlines():
        found.extend(ranges_in_note(line))
    return found


def parse_ranges(spec: str) -> tuple[CodeRange, ...]:
    """A written list of ranges ("O00-O9A, Z33, Z3A") for rule tables kept in code."""
    ranges = []
    for part in spec.split(","):
        parsed = parse_range_item(part)
        if parsed is None:
            raise ValueError(f"not a code range: {part!r}")
        ranges.append(parsed)
    return tuple(ranges)


_ANY_CODE = r"[A-Z0-9]{1,7}(?:\.[A-Z0-9]{0,4})?"
_ANY_ITEM = re.compile(rf"({_ANY_CODE})-?(?:\s*-\s*({_ANY_CODE})-?)?")


def parse_code_range(spec: str) -> CodeRange:
    """One range of ICD-10-CM or procedure codes as people write them in rules: "I21-I22",
    "J96", "E11.6", "99281-99285", "0BJ" (a prefix: everything under it)."""
    match = _ANY_ITEM.fullmatch(spec.strip().upper())
    if match is None:
        raise ValueError(f"not a code range: {spec!r}")
    low = strip_dot(match.group(1))
    return CodeRange(low, strip_dot(match.group(2)) if match.group(2) else low)
