"""Differences between a coder's codes and an auditor's, each classified for reconciliation.

Per code set (diagnoses, procedures), lines are paired in three passes:

1. the same code (in order; a procedure code may appear on several lines);
2. a coder's code and an auditor's code of the same category (first three characters, as
   E11.9 and E11.65): the auditor **changed** it;
3. a coder's code and an auditor's code at the same position: **changed** as well.

What stays unpaired was **added** (the auditor's only) or **deleted** (the coder's only). Lines
paired by code can still differ in **POA**, **modifier**s (compared as sets) or **units**, and
in **sequencing**: the paired codes that are out of the auditor's order, the fewest that explain
it (those outside the longest common order). Diagnosis pointers are not compared: they follow
the diagnoses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from services.coding.domain.encounter import EncounterInput
from services.coding.domain.icd10cm import normalize_icd10cm
from services.coding.domain.procedures import normalize_procedure

CodeSet = Literal["diagnoses", "procedures"]
Coding = EncounterInput | Mapping[str, object]


class Kind(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    CHANGED = "changed"
    SEQUENCING = "sequencing"
    POA = "poa"
    MODIFIER = "modifier"
    UNITS = "units"


#: Differences that change which codes the claim carries.
CODE_KINDS = frozenset({Kind.ADDED, Kind.DELETED, Kind.CHANGED})


@dataclass(frozen=True, slots=True)
class Line:
    """One diagnosis or procedure line, its code normalised."""

    code: str
    poa: str | None = None
    modifiers: tuple[str, ...] = ()
    units: float = 1.0
    dx_pointers: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Difference:
    kind: Kind
    code_set: CodeSet
    coder: Line | None  # None when the auditor added the code
    auditor: Line | None  # None when the auditor deleted it
    coder_position: int | None  # 1-based, in the coder's list
    auditor_position: int | None  # 1-based, in the auditor's list

    @property
    def id(self) -> str:
        """Stable within one comparison: the set, the kind and the positions on both sides."""
        prefix = "dx" if self.code_set == "diagnoses" else "px"
        return f"{prefix}-{self.kind}-{self.coder_position or 0}-{self.auditor_position or 0}"

    @property
    def principal(self) -> bool:
        """It concerns the principal (first-listed) diagnosis on either side."""
        return self.code_set == "diagnoses" and 1 in (self.coder_position, self.auditor_position)

    def describe(self) -> str:
        coder, auditor = self.coder, self.auditor
        if self.kind is Kind.ADDED and auditor:
            return f"{auditor.code} added at {self.auditor_position}"
        if self.kind is Kind.DELETED and coder:
            return f"{coder.code} deleted (was {self.coder_position})"
        assert coder is not None and auditor is not None
        if self.kind is Kind.CHANGED:
            return f"{coder.code} changed to {auditor.code}"
        if self.kind is Kind.SEQUENCING:
            return f"{coder.code} moved from {self.coder_position} to {self.auditor_position}"
        if self.kind is Kind.POA:
            return f"POA of {coder.code}: {coder.poa or 'none'} to {auditor.poa or 'none'}"
        if self.kind is Kind.MODIFIER:
            before, after = ",".join(coder.modifiers), ",".join(auditor.modifiers)
            return f"modifiers of {coder.code}: {before or 'none'} to {after or 'none'}"
        return f"units of {coder.code}: {coder.units:g} to {auditor.units:g}"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "code_set": self.code_set,
            "coder": _line_dict(self.coder),
            "auditor": _line_dict(self.auditor),
            "coder_position": self.coder_position,
            "auditor_position": self.auditor_position,
            "principal": self.principal,
            "description": self.describe(),
        }


@dataclass(frozen=True, slots=True)
class SetComparison:
    """One code set compared: the lines paired by code and every difference."""

    code_set: CodeSet
    coder: tuple[Line, ...]
    auditor: tuple[Line, ...]
    same_code: tuple[tuple[int, int], ...]  # (coder index, auditor index), 0-based
    differences: tuple[Difference, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    diagnoses: SetComparison
    procedures: SetComparison

    @property
    def differences(self) -> tuple[Difference, ...]:
        return self.diagnoses.differences + self.procedures.differences


def compare_codings(coder: Coding, auditor: Coding) -> Comparison:
    """Every difference of the coder's coding from the auditor's (the reference)."""
    coder_dx, coder_px = coding_lines(coder)
    auditor_dx, auditor_px = coding_lines(auditor)
    return Comparison(
        _compare("diagnoses", coder_dx, auditor_dx),
        _compare("procedures", coder_px, auditor_px),
    )


def coding_lines(coding: Coding) -> tuple[tuple[Line, ...], tuple[Line, ...]]:
    """The diagnosis and procedure lines of an EncounterInput or of a document whose
    `diagnoses` / `procedures` items are code strings or objects with a `code`."""
    if isinstance(coding, EncounterInput):
        dx = tuple(Line(normalize_icd10cm(d.code), poa=d.poa) for d in coding.diagnoses)
        px = tuple(
            Line(
                normalize_procedure(p.code),
                modifiers=p.modifiers,
                units=p.units if p.units is not None else 1.0,
                dx_pointers=p.dx_pointers or (),
            )
            for p in coding.procedures
        )
        return _unique(dx), px
    dx = tuple(_line(item, f"diagnoses[{i}]", True) for i, item in _items(coding, "diagnoses"))
    px = tuple(_line(item, f"procedures[{i}]", False) for i, item in _items(coding, "procedures"))
    return _unique(dx), px


def _items(coding: Mapping[str, object], field: str) -> list[tuple[int, object]]:
    items = coding.get(field)
    if items is None:
        return []
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise ValueError(f"{field}: expected a list")
    return list(enumerate(items))


def _line(item: object, where: str, diagnosis: bool) -> Line:
    code = item.get("code") if isinstance(item, Mapping) else item
    if not isinstance(code, str):
        raise ValueError(f"{where}: expected a code string or an object with a code")
    if diagnosis:
        poa = item.get("poa") if isinstance(item, Mapping) else None
        return Line(normalize_icd10cm(code), poa=poa if isinstance(poa, str) else None)
    if not isinstance(item, Mapping):
        return Line(normalize_procedure(code))
    modifiers = item.get("modifiers") or ()
    units = item.get("units")
    pointers = item.get("dx_pointers") or ()
    return Line(
        normalize_procedure(code),
        modifiers=tuple(str(m).upper() for m in modifiers) if isinstance(modifiers, list) else (),
        units=float(units) if isinstance(units, int | float) else 1.0,
        dx_pointers=tuple(p for p in pointers if isinstance(p, int))
        if isinstance(pointers, list)
        else (),
    )


def _unique(lines: tuple[Line, ...]) -> tuple[Line, ...]:
    """A diagnosis code counts once, at its first place (validation refuses duplicates)."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        if line.code not in seen:
            seen.add(line.code)
            kept.append(line)
    return tuple(kept)


def _compare(
    code_set: CodeSet, coder: tuple[Line, ...], auditor: tuple[Line, ...]
) -> SetComparison:
    same = _pair(coder, auditor, lambda c, a: c.code == a.code, [])
    changed = _pair(coder, auditor, lambda c, a: c.code[:3] == a.code[:3], same)
    changed += [
        (i, i)
        for i in range(min(len(coder), len(auditor)))
        if i not in {c for c, _ in same + changed} and i not in {a for _, a in same + changed}
    ]
    differences: list[Difference] = []

    def add(kind: Kind, c: int | None, a: int | None) -> None:
        differences.append(
            Difference(
                kind,
                code_set,
                coder[c] if c is not None else None,
                auditor[a] if a is not None else None,
                c + 1 if c is not None else None,
                a + 1 if a is not None else None,
            )
        )

    for c, a in sorted(changed):
        add(Kind.CHANGED, c, a)
    paired_coder = {c for c, _ in same + changed}
    paired_auditor = {a for _, a in same + changed}
    for c in range(len(coder)):
        if c not in paired_coder:
            add(Kind.DELETED, c, None)
    for a in range(len(auditor)):
        if a not in paired_auditor:
            add(Kind.ADDED, None, a)
    in_order = _longest_common_order(same)
    for c, a in same:
        if (c, a) not in in_order:
            add(Kind.SEQUENCING, c, a)
        if coder[c].poa != auditor[a].poa and code_set == "diagnoses":
            add(Kind.POA, c, a)
        if set(coder[c].modifiers) != set(auditor[a].modifiers):
            add(Kind.MODIFIER, c, a)
        if coder[c].units != auditor[a].units:
            add(Kind.UNITS, c, a)
    return SetComparison(code_set, coder, auditor, tuple(same), tuple(differences))


def _pair(
    coder: tuple[Line, ...],
    auditor: tuple[Line, ...],
    match: Callable[[Line, Line], bool],
    taken: list[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Greedy pairs in the coder's order, each auditor line used once."""
    used_coder = {c for c, _ in taken}
    free = [a for a in range(len(auditor)) if a not in {a for _, a in taken}]
    pairs = []
    for c, line in enumerate(coder):
        if c in used_coder:
            continue
        for a in free:
            if match(line, auditor[a]):
                pairs.append((c, a))
                free.remove(a)
                break
    return pairs


def _longest_common_order(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The most pairs whose auditor positions rise in the coder's order (ties keep the
    coder's earlier codes in place, so the code the auditor moved is the one flagged)."""
    ordered = sorted(pairs)
    if not ordered:
        return set()
    best = [1] * len(ordered)
    previous: list[int | None] = [None] * len(ordered)
    for i in range(len(ordered)):
        for j in range(i):
            if ordered[j][1] < ordered[i][1] and best[j] + 1 > best[i]:
                best[i], previous[i] = best[j] + 1, j
    end: int | None = best.index(max(best))
    kept = set()
    while end is not None:
        kept.add(ordered[end])
        end = previous[end]
    return kept


def _line_dict(line: Line | None) -> dict[str, object] | None:
    if line is None:
        return None
    return {
        "code": line.code,
        "poa": line.poa,
        "modifiers": list(line.modifiers),
        "units": line.units,
        "dx_pointers": list(line.dx_pointers),
    }
