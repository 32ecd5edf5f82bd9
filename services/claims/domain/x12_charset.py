"""Element values in the X12 basic character set, with no separator in them.

The 5010 implementation guides (appendix B, character set) let every trading partner rely
on the basic set: upper-case A-Z, digits 0-9, space and ! " & ' ( ) * + , - . / : ; ? =.
The extended set (lower case, % @ [ ] _ { } \\ | < > ~ ^ # $ ...) needs the partners'
agreement, so it is not used. The separators in use (element, component, repetition,
segment terminator) may never appear inside a value: `*` and `:` are in the basic set but
are this writer's element and component separators, so they are removed like the rest.

So Muñoz -> MUNOZ, Nguyễn -> NGUYEN, O'Brien -> O'BRIEN (the apostrophe is basic), and a
last name "DOE~NM1*IL*1*EVIL" -> "DOENM1IL1EVIL": a value can never add a segment or element.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

BASIC = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\"&'()*+,-./:;?= ")

# Letters NFKD does not decompose into a base letter plus marks.
_LETTERS = str.maketrans(
    {
        "Æ": "AE",
        "Ð": "D",
        "Đ": "D",
        "Ħ": "H",
        "Ĳ": "IJ",
        "Ł": "L",
        "Ŀ": "L",
        "Ŋ": "N",
        "Ø": "O",
        "Œ": "OE",
        "Þ": "TH",
        "Ŧ": "T",
        "ẞ": "SS",
        "‘": "'",
        "’": "'",
        "ʼ": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
        "“": '"',
        "”": '"',
    }
)
_SPACES = re.compile(r" {2,}")


@lru_cache(maxsize=16)
def _clean_pattern(reserved: str) -> re.Pattern[str]:
    """Values already safe: allowed characters only, no space at either end."""
    allowed = "".join(sorted(BASIC - set(reserved) - {" "}))
    body = re.escape(allowed)
    return re.compile(f"(?:[{body}](?:[{body} ]*[{body}])?)?")


def to_basic(value: str, reserved: str) -> str:
    """``value`` in upper-case basic characters, without any character of ``reserved``.

    Accented letters lose their marks, other characters outside the basic set and the
    reserved ones are dropped, whitespace and control characters become one space.
    """
    if _clean_pattern(reserved).fullmatch(value):
        return value
    text = unicodedata.normalize("NFKD", value.upper().translate(_LETTERS))
    out = []
    for ch in text:
        if ch in BASIC and ch not in reserved:
            out.append(ch)
        elif ch.isspace() or unicodedata.category(ch) == "Cc":
            out.append(" ")
        # anything else (combining marks, symbols, other scripts) is dropped
    return _SPACES.sub(" ", "".join(out)).strip()
