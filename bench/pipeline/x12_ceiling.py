"""The claims ceiling: pyx12 validating the run's claims as one file instead of one by one."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from services.claims.domain import validate_x12

ISA_LENGTH = 106  # ISA is fixed-width; its last character is the segment terminator


@dataclass(frozen=True)
class X12Ceiling:
    claims: int
    seconds: float
    valid: bool
    errors: int

    @property
    def rate(self) -> float:
        return self.claims / self.seconds


def one_interchange(texts: Sequence[str]) -> str:
    """Many 837 interchanges as one: the first ISA, one GS per version, every ST...SE.

    Groups (GS06 / GE02) and transaction sets (ST02 / SE02) are renumbered so their control
    numbers stay unique within the file whatever the claims carried.
    """
    first = texts[0].lstrip()
    element, terminator = first[3], first[ISA_LENGTH - 1]
    isa = first[: ISA_LENGTH - 1]
    groups: dict[str, tuple[str, list[list[str]]]] = {}
    for text in texts:
        version, current = "", None
        for segment in (s.strip() for s in text.split(terminator)):
            fields = segment.split(element)
            tag = fields[0]
            if tag == "GS":
                version = fields[8]
                groups.setdefault(version, (segment, []))
            elif tag == "ST":
                current = [segment]
            elif tag == "SE" and current is not None:
                current.append(segment)
                groups[version][1].append(current)
                current = None
            elif current is not None:
                current.append(segment)
    out, number = [isa], 0
    for group, (gs, transactions) in enumerate(groups.values(), start=1):
        header = gs.split(element)
        header[6] = str(group)
        out.append(element.join(header))
        for segments in transactions:
            number += 1
            st, se = segments[0].split(element), segments[-1].split(element)
            st[2] = se[2] = f"{number:04d}"
            out.extend([element.join(st), *segments[1:-1], element.join(se)])
        out.append(element.join(["GE", str(len(transactions)), str(group)]))
    out.append(element.join(["IEA", str(len(groups)), isa.split(element)[13]]))
    return "".join(f"{segment}{terminator}\n" for segment in out)


def measure(texts: Sequence[str]) -> X12Ceiling:
    """Validate the claims as one file; one small file first, untimed, so a library that
    caches what it loads is measured warm."""
    validate_x12(texts[0])
    merged = one_interchange(texts)
    t0 = time.perf_counter()
    ok, errors = validate_x12(merged)
    seconds = time.perf_counter() - t0
    return X12Ceiling(claims=len(texts), seconds=seconds, valid=ok, errors=len(errors))
