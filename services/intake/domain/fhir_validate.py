"""Validation of single resources with the `fhir.resources` R4B models, as OperationOutcome
issues whose expressions name the element (never its value: it may be PHI)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from services.intake.domain.fhir_bundle import Entry
from services.intake.domain.outcome import Issue


def element_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic location as FHIRPath: ('name', 0, 'given') → name[0].given."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = "resourceType" if part == "resource_type" else str(part)
            path += f".{name}" if path else name
    return path


def error_element(error: Any) -> str:
    """The element a pydantic error is about; a cross-field rule names its field in `ctx`."""
    element = element_path(error.get("loc", ()))
    named = (error.get("ctx") or {}).get("field")
    return ".".join(p for p in (element, str(named or "")) if p)


def validation_issues(exc: ValidationError, at: Any) -> list[Issue]:
    """Issues of a pydantic error; `at(element)` gives the expression of an element."""
    issues = []
    for error in exc.errors(include_url=False):
        element = error_element(error)
        missing = error.get("type", "").endswith("missing") or error.get("input", 0) is None
        code = "required" if missing else "invalid"
        message = "is required" if missing else str(error.get("msg", "is invalid"))
        named = (error.get("ctx") or {}).get("field")  # its message starts with the field
        diagnostics = message if named else f"{element or 'resource'}: {message}"
        issues.append(Issue(code, at(element), diagnostics))
    return issues


def validate(entry: Entry) -> list[Issue]:
    """The R4B model's complaints about this resource (empty when it is valid)."""
    try:
        model = get_fhir_model_class(entry.type)
    except (KeyError, ValueError, AttributeError):
        return [Issue("not-supported", entry.at("resourceType"), "unknown resource type")]
    try:
        model.model_validate(entry.resource)
    except ValidationError as exc:
        return validation_issues(exc, entry.at)
    except (TypeError, ValueError):  # fhir.resources fails this way on some odd shapes
        return [Issue("structure", entry.path, "the resource does not have FHIR's structure")]
    return []
