"""X12 separators and segment text, shared by the 837 writer and the response writers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal

from .x12_charset import to_basic


@dataclass(frozen=True)
class Separators:
    element: str = "*"
    sub_element: str = ":"
    segment: str = "~"
    repetition: str = "^"
    # Written after each segment terminator; a newline keeps files readable.
    line_break: str = "\n"

    def __post_init__(self) -> None:
        chars = [self.element, self.sub_element, self.segment, self.repetition]
        if any(len(c) != 1 for c in chars) or len(set(chars)) != 4:
            raise ValueError(f"X12 separators must be four distinct single characters: {chars}")

    @property
    def reserved(self) -> str:
        """Characters no element value may carry."""
        return self.element + self.sub_element + self.segment + self.repetition + "\r\n"


DEFAULT_SEPARATORS = Separators()


def money(amount: Decimal) -> str:
    """X12 R type: no trailing zeros after the point, no point for whole amounts.

    Any finite amount can be written, however absurd (the scrubber holds those claims):
    the rounding context is as wide as the amount.
    """
    digits = max(28, amount.adjusted() + 4)
    text = format(amount.quantize(Decimal("0.01"), ROUND_HALF_UP, Context(prec=digits)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def quantity(amount: Decimal) -> str:
    return money(amount)


def d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H%M")


def no_dot(code: str) -> str:
    return code.replace(".", "").strip().upper()


class Composite(str):
    """A composite element already joined from safe components."""


class SegmentWriter:
    """Accumulates segments; trailing empty elements are trimmed as X12 requires.

    Every value goes through `to_basic`: the basic character set, no separator inside.
    """

    def __init__(self, seps: Separators) -> None:
        self.seps = seps
        self.segments: list[str] = []
        self._reserved = seps.reserved

    def composite(self, *parts: str) -> Composite:
        items = [to_basic(p, self._reserved) for p in parts]
        while items and items[-1] == "":
            items.pop()
        return Composite(self.seps.sub_element.join(items))

    def add(self, seg_id: str, *elements: str) -> None:
        reserved = self._reserved
        items = [e if isinstance(e, Composite) else to_basic(e, reserved) for e in elements]
        while items and items[-1] == "":
            items.pop()
        self.segments.append(self.seps.element.join([seg_id, *items]))

    def add_raw(self, text: str) -> None:
        self.segments.append(text)

    def __len__(self) -> int:
        return len(self.segments)

    def text(self) -> str:
        return render(self.seps, self.segments)


def render(seps: Separators, segments: list[str]) -> str:
    brk = "" if seps.segment in "\r\n" else seps.line_break
    end = seps.segment + brk
    return end.join(segments) + end


def isa_segment(
    seps: Separators,
    sender_id: str,
    receiver_id: str,
    when: datetime,
    control: int,
    usage: str = "P",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
) -> str:
    """The fixed-width ISA; its separators tell every reader how to read the rest."""
    e = seps.element
    sender_id, receiver_id = (to_basic(i, seps.reserved) for i in (sender_id, receiver_id))
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        sender_qualifier,
        sender_id.ljust(15)[:15],
        receiver_qualifier,
        receiver_id.ljust(15)[:15],
        when.strftime("%y%m%d"),
        hhmm(when),
        seps.repetition,
        "00501",
        f"{control:09d}",
        "0",
        usage,
        seps.sub_element,
    ]
    return e.join(fields)


def split_segments(text: str) -> tuple[Separators, list[list[str]]]:
    """Split an X12 interchange into segments of elements, reading separators from ISA."""
    start = text.find("ISA")
    if start < 0 or len(text) < start + 106:
        raise ValueError("not an X12 interchange: no ISA segment")
    isa = text[start : start + 106]
    seps = Separators(element=isa[3], sub_element=isa[104], segment=isa[105], repetition=isa[82])
    segments = []
    for raw in text[start:].split(seps.segment):
        raw = raw.strip("\r\n")
        if raw.strip():
            segments.append(raw.split(seps.element))
    return seps, segments
