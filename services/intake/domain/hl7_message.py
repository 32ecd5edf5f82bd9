"""HL7 v2 messages: line endings normalised, parsed with `hl7`, fields read safely, and the
ACK (MSA AA / AE / AR with ERR segments naming the field) built for each message.

Error texts name fields, never their values (they may be PHI).
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import hl7
import hl7.containers
import hl7.util
from hl7.exceptions import ParseException

# `hl7` logs the values it cannot unescape (patient data): keep its loggers silent. A level
# and a filter, because logging configuration (uvicorn's) re-enables disabled loggers.
for _module in (hl7.containers, hl7.util):
    _logger = logging.getLogger(_module.__file__)
    _logger.setLevel(logging.CRITICAL + 1)
    _logger.addFilter(lambda _record: False)

SUPPORTED = {("ADT", "A03"), ("DFT", "P03"), ("MDM", "T02")}
#: HL7 table 0357 (message error condition codes) used here.
ERROR_NAMES = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "204": "Unknown key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}


@dataclass(frozen=True)
class Hl7Error:
    """One ERR segment: where (`PV1^1^19`), which table 0357 code, and a PHI-free text."""

    location: str
    code: str
    text: str

    def segment(self) -> str:
        name = ERROR_NAMES.get(self.code, "Error")
        return f"ERR||{self.location}|{self.code}^{name}^HL70357|E||||{_escape(self.text)}"


class Rejected(Exception):
    """The message cannot be taken at all: ACK with AR."""

    def __init__(self, *errors: Hl7Error) -> None:
        super().__init__("; ".join(e.text for e in errors))
        self.errors = list(errors)


def normalise(raw: str) -> str:
    """Segments separated by CR only (senders use CRLF or LF too), no blank segments."""
    segments = re.split(r"\r\n|\n|\r", raw.strip("\x0b\x1c\r\n "))
    return "\r".join(s for s in segments if s.strip())


def _escape(text: str) -> str:
    return text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")


@dataclass(frozen=True)
class Header:
    """MSH fields an ACK needs, read even from a message that does not parse."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    trigger: str = ""
    control_id: str = ""
    version: str = "2.5.1"

    @classmethod
    def of(cls, text: str) -> Header:
        first = text.split("\r", 1)[0]
        if not first.startswith("MSH") or len(first) < 8:
            return cls()
        sep, comp = first[3], first[4]
        fields = first.split(sep)  # fields[n - 1] is MSH-n (MSH-1 is the separator itself)

        def f(n: int, component: int = 1) -> str:
            value = fields[n - 1] if len(fields) >= n else ""
            parts = value.split(comp)
            return parts[component - 1].strip() if len(parts) >= component else ""

        return cls(f(3), f(4), f(5), f(6), f(9), f(9, 2), f(10), f(12) or "2.5.1")


class Message:
    """A parsed message with 1-based, never-failing field access."""

    def __init__(self, text: str) -> None:
        self.header = Header.of(text)
        if not text.startswith("MSH"):
            raise Rejected(Hl7Error("MSH^1", "100", "the message does not start with MSH"))
        try:
            self.parsed = hl7.parse(text)
        except (ParseException, IndexError, ValueError, AssertionError) as exc:
            raise Rejected(Hl7Error("MSH^1", "100", "the message does not parse")) from exc
        h = self.header
        if not h.control_id:
            raise Rejected(Hl7Error("MSH^1^10", "101", "MSH-10 message control id is required"))
        if not h.sending_facility:
            raise Rejected(Hl7Error("MSH^1^4", "101", "MSH-4 sending facility is required"))
        if h.message_type not in {t for t, _ in SUPPORTED}:
            raise Rejected(Hl7Error("MSH^1^9", "200", "only ADT, DFT and MDM messages are taken"))
        if (h.message_type, h.trigger) not in SUPPORTED:
            raise Rejected(Hl7Error("MSH^1^9^2", "201", "only ADT^A03, DFT^P03 and MDM^T02"))

    @property
    def kind(self) -> tuple[str, str]:
        return (self.header.message_type, self.header.trigger)

    def has(self, segment: str) -> bool:
        return any(str(s[0]) == segment for s in self.parsed)

    def segments(self, segment: str) -> list[hl7.Segment]:
        return [s for s in self.parsed if str(s[0]) == segment]

    def get(self, segment: str, field: int, component: int = 1, nth: int = 1) -> str:
        """The field's component as text ('' when absent), unescaped."""
        found = self.segments(segment)
        if len(found) < nth:
            return ""
        return field_of(found[nth - 1], field, component)

    def repetitions(self, segment: hl7.Segment, field: int) -> list[str]:
        """Every repetition of a field, as text (e.g. the lines of an OBX-5 TX value)."""
        if field >= len(segment):
            return []
        value = segment(field)
        reps = value if isinstance(value, hl7.Field) else [value]
        return [self.parsed.unescape(str(rep)) for rep in reps]


def field_of(segment: hl7.Segment, field: int, component: int = 1) -> str:
    try:
        return str(segment.extract_field(1, field, 1, component, 1)).strip()
    except (IndexError, KeyError):
        return ""


def ack(header: Header, code: str, errors: list[Hl7Error], now: datetime | None = None) -> str:
    """The ACK to a message: MSH (sender and receiver swapped), MSA, and one ERR per error."""
    when = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            "CHARTFLOW",
            "CHARTFLOW",
            _escape(header.sending_application),
            _escape(header.sending_facility),
            when,
            "",
            f"ACK^{_escape(header.trigger)}^ACK",
            uuid.uuid4().hex[:20],
            "P",
            _escape(header.version),
        ]
    )
    segments = [msh, f"MSA|{code}|{_escape(header.control_id)}"]
    segments += [e.segment() for e in errors]
    return "\r".join(segments) + "\r"
