"""Reads the payer's acknowledgments: 999 (syntax) and 277CA (claim acknowledgment).

Read with pyx12's `X12Reader`: it tokenizes each call's text on its own (no maps, no
logger), so answers of many batches can be read at once.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pyx12.errors
import pyx12.segment
import pyx12.x12file

# 277CA claim status categories (code source 507) that mean the payer took the claim in.
ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})


@dataclass(frozen=True)
class SegmentError:
    seg_id: str
    position: int  # segment position inside the transaction set (ST = 1)
    loop_id: str
    code: str  # IK304 implementation segment syntax error code
    element: str = ""  # IK401 position, e.g. "2" or "5-1"
    element_code: str = ""  # IK403
    bad_value: str = ""


@dataclass(frozen=True)
class TransactionAck:
    group_control: str
    transaction_control: str
    transaction_set: str  # 837
    code: str  # IK501: A accepted, E accepted with errors, R rejected, ...
    segment_errors: tuple[SegmentError, ...] = ()
    set_errors: tuple[str, ...] = ()  # IK502..IK506

    @property
    def accepted(self) -> bool:
        return self.code in ("A", "E")


@dataclass(frozen=True)
class Ack999:
    group_control: str
    group_code: str  # AK901
    transactions: tuple[TransactionAck, ...]


@dataclass(frozen=True)
class ClaimAck:
    patient_control_number: str
    category: str  # STC01-1, e.g. A2 accepted, A7 rejected for invalid information
    status_code: str  # STC01-2, claim status code (code source 508)
    entity: str = ""  # STC01-3
    action: str = ""  # STC03: WQ accepted, U rejected
    charge: Decimal = Decimal(0)
    payer_claim_id: str = ""
    free_text: str = ""

    @property
    def accepted(self) -> bool:
        return self.category in ACCEPTED_CATEGORIES and self.action != "U"


class UnreadableX12(ValueError):
    """The text is not an X12 interchange pyx12 can read (its message names no values)."""


def segments(text: str) -> Iterator[pyx12.segment.Segment]:
    try:
        yield from pyx12.x12file.X12Reader(io.StringIO(text))
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
        # pyx12's messages may quote the text read: keep only what kind of error it was.
        raise UnreadableX12(f"not a readable X12 interchange ({type(exc).__name__})") from None


@lru_cache(maxsize=1024)
def _position(ref: str) -> tuple[int, int | None]:
    """ "CLP01" -> (0, None), "SVC01-2" -> (0, 1): parsed once, not on every read."""
    found = _REFDES.fullmatch(ref)
    if found is None:
        raise ValueError(f"not a reference designator: {ref}")
    return int(found[1]) - 1, int(found[2]) - 1 if found[2] else None


_REFDES = re.compile(r"[A-Z][A-Z0-9]{1,2}(\d{2})(?:-(\d{1,2}))?")


def el(seg: pyx12.segment.Segment, ref: str) -> str:
    """The element's value as pyx12's `Segment.get_value(ref)` gives it ("" when absent)."""
    ele, comp = _position(ref)
    if ele >= len(seg.elements):
        return ""
    item: Any = seg.elements[ele]
    if comp is not None:
        if comp >= len(item):
            return ""
        item = item[comp]
    return item.format() or ""


def amount(seg: pyx12.segment.Segment, ref: str) -> Decimal:
    text = el(seg, ref)
    return Decimal(text) if text else Decimal(0)


def read_999(text: str) -> list[Ack999]:
    acks: list[Ack999] = []
    group_control = group_code = ""
    transactions: list[TransactionAck] = []
    current: dict[str, str] = {}
    seg_errors: list[SegmentError] = []
    for seg in segments(text):
        sid = seg.get_seg_id()
        if sid == "AK1":
            group_control, transactions = el(seg, "AK102"), []
        elif sid == "AK2":
            current = {"set": el(seg, "AK201"), "control": el(seg, "AK202")}
            seg_errors = []
        elif sid == "IK3":
            seg_errors.append(
                SegmentError(
                    el(seg, "IK301"), int(el(seg, "IK302") or 0), el(seg, "IK303"), el(seg, "IK304")
                )
            )
        elif sid == "IK4" and seg_errors:
            # One error per IK4: a segment (IK3) may have several bad elements.
            last = seg_errors[-1]
            if last.element:
                last = SegmentError(last.seg_id, last.position, last.loop_id, last.code)
            else:
                seg_errors.pop()
            element = el(seg, "IK401-1")
            if el(seg, "IK401-2"):
                element += "-" + el(seg, "IK401-2")
            seg_errors.append(
                SegmentError(
                    last.seg_id,
                    last.position,
                    last.loop_id,
                    last.code,
                    element,
                    el(seg, "IK403"),
                    el(seg, "IK404"),
                )
            )
        elif sid == "IK5":
            transactions.append(
                TransactionAck(
                    group_control,
                    current.get("control", ""),
                    current.get("set", ""),
                    el(seg, "IK501"),
                    tuple(seg_errors),
                    tuple(c for c in (el(seg, f"IK50{n}") for n in range(2, 7)) if c),
                )
            )
        elif sid == "AK9":
            group_code = el(seg, "AK901")
            acks.append(Ack999(group_control, group_code, tuple(transactions)))
    return acks


def read_277ca(text: str) -> list[ClaimAck]:
    acks: list[ClaimAck] = []
    level = ""
    pcn = ""
    stc: pyx12.segment.Segment | None = None
    payer_claim_id = ""

    def flush() -> None:
        if level == "PT" and pcn and stc is not None:
            acks.append(
                ClaimAck(
                    pcn,
                    el(stc, "STC01-1"),
                    el(stc, "STC01-2"),
                    el(stc, "STC01-3"),
                    el(stc, "STC03"),
                    amount(stc, "STC04"),
                    payer_claim_id,
                    el(stc, "STC12"),
                )
            )

    for seg in segments(text):
        sid = seg.get_seg_id()
        if sid in ("HL", "SE"):
            flush()
            level = el(seg, "HL03") if sid == "HL" else ""
            pcn, stc, payer_claim_id = "", None, ""
        elif level == "PT":
            if sid == "TRN":
                pcn = el(seg, "TRN02")
            elif sid == "STC" and stc is None:  # the first STC is the claim's status
                stc = seg
            elif sid == "REF" and el(seg, "REF01") == "1K":
                payer_claim_id = el(seg, "REF02")
    return acks
