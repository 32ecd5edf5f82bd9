"""NDJSON bulk files: one encounter document (native JSON) or one FHIR resource per line.

Line numbers count every physical line from 1; blank lines are skipped. Errors name the line
and the field, never the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from services.intake.domain.fhir_bundle import as_list
from services.intake.domain.fhir_validate import error_element
from services.intake.domain.outcome import Issue
from shared.events.intake import EncounterDocument


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    message: str


def numbered_lines(body: str, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line."""
    for n, text in enumerate(body.split("\n"), start=first_line):
        text = text.strip()
        if text:
            yield n, text


def looks_like_fhir(text: str) -> bool:
    """A FHIR resource line: a JSON object with a resourceType (checked without parsing)."""
    return re.match(r'^\{[^{]*"resourceType"\s*:', text) is not None


def native_document(line: int, text: str) -> EncounterDocument | list[LineError]:
    try:
        return EncounterDocument.model_validate_json(text)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if looks_like_fhir(text):
            return [LineError(line, "resourceType", "a FHIR resource in a native JSON file")]
        return [_line_error(line, e) for e in errors]


def _line_error(line: int, error: Any) -> LineError:
    if error.get("type") == "json_invalid":
        return LineError(line, "line", f"not JSON: {error.get('msg', '')}"[:500])
    return LineError(line, error_element(error) or "line", str(error.get("msg")))


def fhir_collection(
    lines: list[tuple[int, str]],
) -> tuple[dict[str, Any], list[int], list[LineError]]:
    """The resource lines as one collection Bundle, the line of each entry, and bad lines.

    A line may also hold a whole Bundle: its entries join the collection.
    """
    entries: list[dict[str, Any]] = []
    entry_lines: list[int] = []
    errors: list[LineError] = []
    for line, text in lines:
        try:
            resource = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(LineError(line, "line", f"not JSON: {exc.msg}"))
            continue
        if not isinstance(resource, dict) or not resource.get("resourceType"):
            errors.append(LineError(line, "resourceType", "not a FHIR resource"))
            continue
        if resource["resourceType"] == "Bundle":
            for item in as_list(resource.get("entry")):
                if isinstance(item, dict):
                    entries.append(
                        {"fullUrl": item.get("fullUrl"), "resource": item.get("resource")}
                    )
                    entry_lines.append(line)
            continue
        entries.append({"resource": resource})
        entry_lines.append(line)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return bundle, entry_lines, errors


def issue_line_errors(issues: list[Issue], entry_lines: list[int]) -> list[LineError]:
    """Issues of the collection read back as errors of the lines their entries came from."""
    found = []
    for issue in issues:
        match = re.match(r"^Bundle\.entry\[(\d+)\]\.resource\.?(.*)$", issue.expression)
        if match and int(match.group(1)) < len(entry_lines):
            field = match.group(2) or "resource"
            found.append(LineError(entry_lines[int(match.group(1))], field, issue.diagnostics))
        else:
            found.append(LineError(0, issue.expression, issue.diagnostics))
    return found
