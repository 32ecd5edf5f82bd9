"""ICD-10-CM code facts from `simple_icd_10_cm`, loaded once per process on first use.

Importing this module is cheap; the classification (about 175 MB, 2-3 s) loads the first time
a function here needs it. Codes are handled in the classification's dotted form ("E11.9").
"""

from __future__ import annotations

import importlib.util
import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from types import ModuleType

from shared.code_ranges import CodeRange, ranges_in_note, ranges_in_text

_FORMAT = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")
_lock = threading.Lock()
_library: ModuleType | None = None


def library() -> ModuleType:
    """The loaded `simple_icd_10_cm` module (the first call pays for the load)."""
    global _library
    if _library is None:
        with _lock:
            if _library is None:
                import simple_icd_10_cm

                _library = simple_icd_10_cm
    return _library


def is_loaded() -> bool:
    return _library is not None


def release() -> str:
    """The CDC release the library carries, read from its data file name (no load needed)."""
    spec = importlib.util.find_spec("simple_icd_10_cm")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        for path in sorted(Path(location, "data").glob("code-list-*.txt")):
            return path.stem.removeprefix("code-list-").replace("-", " ")
    return "unknown"


def normalize_icd10cm(code: str) -> str:
    """Upper-case, drop spaces, put the dot after the category: " e119 " -> "E11.9"."""
    bare = "".join(code.split()).upper().replace(".", "")
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def looks_like_icd10cm(code: str) -> bool:
    return _FORMAT.fullmatch(code) is not None


class Status(StrEnum):
    BILLABLE = "billable"
    NOT_BILLABLE = "not_billable"  # a category or subcategory with more specific codes below
    NEEDS_7TH = "needs_7th"  # complete except for the 7th character
    INVALID_7TH = "invalid_7th"  # the 7th character is not one this code takes
    MISSING_PLACEHOLDER = "missing_placeholder"  # right code once X placeholders are inserted
    UNKNOWN = "unknown"  # not in the classification


@dataclass(frozen=True, slots=True)
class CodeCheck:
    code: str
    status: Status
    # NEEDS_7TH / INVALID_7TH: the 7th characters the code takes, with their meaning.
    seventh: dict[str, str] | None = None
    # MISSING_PLACEHOLDER: the code written with its X placeholders; NOT_BILLABLE: a child.
    suggestion: str | None = None
    # NEEDS_7TH: the 6-character stem the 7th character goes on (placeholders included).
    stem: str | None = None


@lru_cache(maxsize=65536)
def check_code(code: str) -> CodeCheck:
    """Billable = in the classification, a category or subcategory, and a leaf.

    For codes that are not, work out what is missing: a 7th character, X placeholders, or a
    more specific code, so the message can say so.
    """
    cm = library()
    if cm.is_valid_item(code) and cm.is_category_or_subcategory(code):
        if cm.is_leaf(code):
            return CodeCheck(code, Status.BILLABLE)
        children = cm.get_children(code)
        if all(cm.is_extended_subcategory(child) for child in children):
            return CodeCheck(code, Status.NEEDS_7TH, seventh=_seventh(code), stem=children[0][:-1])
        return CodeCheck(code, Status.NOT_BILLABLE, suggestion=children[0])
    bare = code.replace(".", "")
    owner = _seventh_owner(bare) if len(bare) == 6 else None
    if owner is not None:  # a complete stem such as "T07.XXX": only the 7th character is missing
        return CodeCheck(code, Status.NEEDS_7TH, seventh=owner.seventh, stem=owner.stem)
    if 4 <= len(bare) <= 7:
        # Read the last character as a 7th character, written with or without placeholders.
        stem, seventh = bare[:-1], bare[-1]
        for candidate in _with_placeholders(stem):
            full = normalize_icd10cm(candidate + seventh)
            if candidate != stem and _billable(full):
                return CodeCheck(code, Status.MISSING_PLACEHOLDER, suggestion=full)
            owner = _seventh_owner(candidate)
            if owner is not None:
                return CodeCheck(code, Status.INVALID_7TH, seventh=owner.seventh, stem=owner.stem)
    # Or the 7th character is missing too.
    for candidate in _with_placeholders(bare):
        owner = _seventh_owner(candidate)
        if owner is not None:
            return CodeCheck(
                code, Status.NEEDS_7TH, seventh=owner.seventh, stem=owner.stem, suggestion=None
            )
    return CodeCheck(code, Status.UNKNOWN)


def _with_placeholders(stem: str) -> list[str]:
    """The 6-character stems `stem` can be with X placeholders inserted after the category."""
    if len(stem) > 6 or len(stem) < 3:
        return []
    missing = 6 - len(stem)
    variants = []
    for slots in combinations(range(3, 6), missing):
        chars = iter(stem)
        variants.append("".join("X" if i in slots else next(chars) for i in range(6)))
    return variants


def _seventh_owner(stem: str) -> CodeCheck | None:
    """The code that takes a 7th character on this 6-character stem ("T07XXX" -> T07)."""
    cm = library()
    dotted = normalize_icd10cm(stem)
    candidate = stem
    while len(candidate) >= 3:
        code = normalize_icd10cm(candidate)
        if cm.is_valid_item(code) and cm.is_category_or_subcategory(code):
            found = check_code(code)
            if found.status is Status.NEEDS_7TH and found.stem == dotted:
                return found
            return None
        if not candidate.endswith("X"):
            return None
        candidate = candidate[:-1]
    return None


def _billable(code: str) -> bool:
    cm = library()
    return bool(cm.is_valid_item(code) and cm.is_category_or_subcategory(code) and cm.is_leaf(code))


def _seventh(code: str) -> dict[str, str]:
    """7th characters this code takes (some combinations are excluded), with their meaning."""
    cm = library()
    meanings = cm.get_seven_chr_def(code, search_in_ancestors=True)
    return {child[-1]: meanings.get(child[-1], "") for child in cm.get_children(code)}


def is_billable(code: str) -> bool:
    return check_code(normalize_icd10cm(code)).status is Status.BILLABLE


def is_valid(code: str) -> bool:
    """In the classification as a category or subcategory (billable or not)."""
    cm = library()
    code = normalize_icd10cm(code)
    return bool(cm.is_valid_item(code) and cm.is_category_or_subcategory(code))


def description(code: str) -> str | None:
    cm = library()
    code = normalize_icd10cm(code)
    return str(cm.get_description(code)) if cm.is_valid_item(code) else None


@lru_cache(maxsize=65536)
def lineage(code: str) -> tuple[tuple[str, str, bool], ...]:
    """(name, title, is_block_level) for the code and every ancestor up to its chapter."""
    cm = library()
    chain = [(code, str(cm.get_description(code)), False)]
    previous = code
    for ancestor in cm.get_ancestors(code):
        # A block holding one category shares its name; the library reaches it that way.
        as_block = ancestor == previous or not cm.is_category_or_subcategory(ancestor)
        title = cm.get_description(ancestor, prioritize_blocks=ancestor == previous)
        chain.append((ancestor, str(title), as_block))
        previous = ancestor
    return tuple(chain)


@dataclass(frozen=True, slots=True)
class Excludes1:
    owner: str  # the code, category, block or chapter carrying the note
    note: str
    ranges: tuple[CodeRange, ...]


@lru_cache(maxsize=65536)
def excludes1_notes(code: str) -> tuple[Excludes1, ...]:
    """Excludes1 notes naming codes, on the code or above it (block and chapter included)."""
    cm = library()
    found: list[Excludes1] = []
    previous = None
    for name, _title, _block in lineage(code):
        notes = cm.get_excludes1(name, prioritize_blocks=name == previous)
        previous = name
        for note in notes:
            ranges = tuple(ranges_in_note(note))
            if ranges:
                found.append(Excludes1(name, note, ranges))
    return tuple(found)


@lru_cache(maxsize=65536)
def _excludes1_by_letter(code: str) -> dict[str, tuple[tuple[str, str, Excludes1], ...]]:
    """The code's Excludes1 ranges as bare (low, high) bounds, keyed by first letter.

    A note whose range also covers `code` itself is a carve-out inside the same family
    (qualified in words the parser does not read), so it is not kept.
    """
    by_letter: dict[str, list[tuple[str, str, Excludes1]]] = {}
    for entry in excludes1_notes(code):
        for code_range in entry.ranges:
            if code in code_range:
                continue
            for letter in _letters(code_range.low[0], code_range.high[0]):
                by_letter.setdefault(letter, []).append((code_range.low, code_range.high, entry))
    return {letter: tuple(bounds) for letter, bounds in by_letter.items()}


def _letters(first: str, last: str) -> list[str]:
    return [chr(c) for c in range(ord(first), ord(last) + 1)]


def excludes1_conflict(code: str, other: str) -> Excludes1 | None:
    """The Excludes1 note on `code` (or above it) that names `other`, if any."""
    bounds = _excludes1_by_letter(code).get(other[:1])
    if not bounds:
        return None
    bare = other.replace(".", "")
    for low, high, entry in bounds:
        if bare[: len(low)] >= low and bare[: len(high)] <= high:
            return entry
    return None


# "Polyneuropathy in diseases classified elsewhere", "Arthropathies in other diseases ...",
# "Pleural effusion in conditions classified elsewhere".
_MANIFESTATION_TITLE = re.compile(
    r"\bin (?:[\w,'\[\]-]+ ){0,6}?(?:diseases?|conditions?|reactions?) classified elsewhere",
    re.IGNORECASE,
)
_AGENT_TITLE = re.compile(r"\bas the cause of diseases classified elsewhere", re.IGNORECASE)


def is_manifestation(code: str) -> bool:
    """Title convention for manifestation codes: "... in diseases classified elsewhere"."""
    return _title_matches(code, _MANIFESTATION_TITLE)


def is_infectious_agent(code: str) -> bool:
    """B95-B97: "<organism> as the cause of diseases classified elsewhere", supplementary only."""
    return _title_matches(code, _AGENT_TITLE)


def is_external_cause(code: str) -> bool:
    """Chapter 20, External causes of morbidity (V00-Y99)."""
    return code[:1] in ("V", "W", "X", "Y")


def _title_matches(code: str, pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(title) for _name, title, block in lineage(code) if not block)


@dataclass(frozen=True, slots=True)
class CodeFirstNote:
    owner: str  # the code or category carrying the note
    text: str
    ranges: tuple[CodeRange, ...]

    @property
    def underlying(self) -> bool:
        """ "Code first underlying disease/condition": the etiology/manifestation convention."""
        return self.text.lower().lstrip().startswith(("underlying", "the underlying"))

    @property
    def summary(self) -> str:
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        return "; ".join(lines[:4]) + ("; ..." if len(lines) > 4 else "")


@lru_cache(maxsize=65536)
def code_first_notes(code: str) -> tuple[CodeFirstNote, ...]:
    """Unconditional "code first" notes on the code or its category and subcategories.

    Notes that start with a qualifier (", if applicable", ", for adverse effects") and notes at
    block or chapter level are sequencing hints for some cases only, so they are left out.
    """
    cm = library()
    notes = []
    for name, _title, block in lineage(code):
        if block:
            break
        text = str(cm.get_code_first(name))
        first_line = text.split("\n", 1)[0].lower()
        if not text or text.lstrip().startswith(",") or "if applicable" in first_line:
            continue
        notes.append(CodeFirstNote(name, text, tuple(ranges_in_text(text))))
    return tuple(notes)


def all_codes() -> list[str]:
    """Every category and subcategory (billable or not), in classification order."""
    cm = library()
    seen: set[str] = set()
    codes = []
    for code in cm.get_all_codes():
        if code not in seen and cm.is_category_or_subcategory(code):
            seen.add(code)
            codes.append(code)
    return codes
