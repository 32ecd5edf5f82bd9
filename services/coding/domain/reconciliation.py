"""Reconciliation: the auditor decides each difference, and the final codes follow.

The final coding starts from the auditor's blind re-code; each difference decided for the coder
puts the coder's version back: an added code is removed, a deleted one re-inserted at the
coder's place, a changed one restored, a moved one returned to the coder's place, a POA,
modifier or units value restored. Procedure pointers follow their diagnoses by code, so a
pointer to a diagnosis no longer listed disappears (validation then says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from services.coding.domain.differences import Comparison, Kind, Line, SetComparison

Decision = Literal["auditor", "coder"]


class DecisionsIncomplete(ValueError):
    """Some differences have no decision, or decisions name differences that do not exist."""

    def __init__(self, missing: Sequence[str], unknown: Sequence[str]) -> None:
        parts = []
        if missing:
            parts.append(f"no decision for {', '.join(missing)}")
        if unknown:
            parts.append(f"no difference {', '.join(unknown)}")
        super().__init__("; ".join(parts))
        self.missing, self.unknown = list(missing), list(unknown)


@dataclass(eq=False)
class _Slot:
    line: Line
    pointers: tuple[str, ...]  # the diagnosis codes a procedure line points to
    removed: bool = False


def final_coding(
    comparison: Comparison, decisions: Mapping[str, Decision]
) -> dict[str, list[dict[str, object]]]:
    """The final `diagnoses` and `procedures` (the shape coders submit) after the decisions."""
    ids = [d.id for d in comparison.differences]
    missing = [i for i in ids if i not in decisions]
    unknown = [i for i in decisions if i not in ids]
    if missing or unknown:
        raise DecisionsIncomplete(missing, unknown)
    dx_before = (comparison.diagnoses.coder, comparison.diagnoses.auditor)
    diagnoses = _apply(comparison.diagnoses, decisions, dx_before)
    procedures = _apply(comparison.procedures, decisions, dx_before)
    final_dx = [slot.line.code for slot in diagnoses]
    return {
        "diagnoses": [
            {"code": s.line.code, **({"poa": s.line.poa} if s.line.poa else {})} for s in diagnoses
        ],
        "procedures": [
            {
                "code": s.line.code,
                "modifiers": list(s.line.modifiers),
                "units": int(s.line.units),
                "dx_pointers": [final_dx.index(c) + 1 for c in s.pointers if c in final_dx],
            }
            for s in procedures
        ],
    }


def _apply(
    compared: SetComparison,
    decisions: Mapping[str, Decision],
    dx: tuple[tuple[Line, ...], tuple[Line, ...]],
) -> list[_Slot]:
    coder_dx, auditor_dx = dx
    slots = [_Slot(line, _pointer_codes(line, auditor_dx)) for line in compared.auditor]
    placed: list[tuple[int, _Slot]] = []  # (the coder's position, slot): moved or re-inserted
    for difference in compared.differences:
        if decisions[difference.id] != "coder":
            continue
        coder, kind = difference.coder, difference.kind
        slot = slots[difference.auditor_position - 1] if difference.auditor_position else None
        if kind is Kind.ADDED and slot:
            slot.removed = True
        elif kind is Kind.DELETED and coder and difference.coder_position:
            restored = _Slot(coder, _pointer_codes(coder, coder_dx))
            placed.append((difference.coder_position, restored))
        elif kind is Kind.CHANGED and coder and slot:
            slot.line, slot.pointers = coder, _pointer_codes(coder, coder_dx)
        elif kind is Kind.SEQUENCING and slot and difference.coder_position:
            placed.append((difference.coder_position, slot))
        elif coder and slot:
            slot.line = _restored(slot.line, coder, kind)
    moved = {id(slot) for _, slot in placed}
    final = [slot for slot in slots if not slot.removed and id(slot) not in moved]
    for position, slot in sorted(placed, key=lambda p: p[0]):
        final.insert(min(position - 1, len(final)), slot)
    return final


def _restored(line: Line, coder: Line, kind: Kind) -> Line:
    if kind is Kind.POA:
        return replace(line, poa=coder.poa)
    if kind is Kind.MODIFIER:
        return replace(line, modifiers=coder.modifiers)
    return replace(line, units=coder.units)


def _pointer_codes(line: Line, diagnoses: tuple[Line, ...]) -> tuple[str, ...]:
    return tuple(diagnoses[p - 1].code for p in line.dx_pointers if 0 < p <= len(diagnoses))
