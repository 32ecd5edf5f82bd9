"""Clinical notes from FHIR attachments (base64 text/plain or text/html) and the record's own
conditions and procedures, kept as documentation for the coder (never as final codes)."""

from __future__ import annotations

import base64
import binascii
import re
from html.parser import HTMLParser
from typing import Any

#: LOINC document types → the note kinds coders know.
NOTE_KINDS = {
    "11506-3": "progress_note",
    "18842-5": "discharge_summary",
    "34117-2": "history_and_physical",
    "11504-8": "operative_report",
    "34111-5": "ed_note",
    "28570-0": "procedure_note",
    "11488-4": "consult_note",
    "34133-9": "summary_of_episode",
    "18748-4": "imaging_report",
    "11502-2": "laboratory_report",
    "11526-1": "pathology_report",
}
TEXT_TYPES = ("text/plain", "text/html")
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section"}


class AttachmentError(ValueError):
    """The attachment cannot become note text; the message names what is wrong (no content)."""


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    return "\n".join(line for line in lines if line)


def attachment_text(attachment: dict[str, Any]) -> str:
    """The text of an inline text/plain or text/html attachment."""
    content_type = str(attachment.get("contentType") or "")
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media not in TEXT_TYPES:
        raise AttachmentError(f"contentType {media or '(none)'} is not text/plain or text/html")
    data = attachment.get("data")
    if not data:
        raise AttachmentError("no inline data (Chartflow does not fetch attachment URLs)")
    try:
        raw = base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentError("data is not valid base64") from None
    charset = re.search(r"charset=([\w-]+)", params)
    try:
        text = raw.decode(charset.group(1) if charset else "utf-8")
    except (LookupError, UnicodeDecodeError):
        raise AttachmentError("data does not decode with its charset") from None
    text = html_to_text(text) if media == "text/html" else text.strip()
    if not text:
        raise AttachmentError("the attachment has no text")
    return text


def note_kind(concept: Any, fallback: str) -> str:
    """The note kind of a DocumentReference.type / DiagnosticReport.code."""
    if isinstance(concept, dict):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and coding.get("code") in NOTE_KINDS:
                return NOTE_KINDS[coding["code"]]
        label = concept.get("text") or next(
            (c.get("display") for c in concept.get("coding") or [] if isinstance(c, dict)), None
        )
        if label:
            slug = re.sub(r"[^a-z0-9]+", "_", str(label).lower()).strip("_")
            if slug:
                return slug[:60]
    return fallback


def concept_label(concept: Any) -> str:
    """`text (system code)` of a CodeableConcept, for documentation lines."""
    if not isinstance(concept, dict):
        return "(no code)"
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    text = concept.get("text") or next((c.get("display") for c in codings if c.get("display")), "")
    codes = ", ".join(
        f"{_system_name(c.get('system'))} {c['code']}" for c in codings if c.get("code")
    )
    return f"{text} ({codes})" if text and codes else text or codes or "(no code)"


_SYSTEMS = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://www.cms.gov/Medicare/Coding/ICD10": "ICD-10-PCS",
    "http://www.ama-assn.org/go/cpt": "CPT",
    "http://loinc.org": "LOINC",
}


def _system_name(system: Any) -> str:
    return _SYSTEMS.get(str(system), str(system or "code"))


def documented(title: str, lines: list[str]) -> str:
    """A documentation note listing what the record says (conditions, procedures)."""
    body = "\n".join(f"- {line}" for line in lines)
    return f"{title} (as documented in the hospital's record, not final codes):\n{body}"
