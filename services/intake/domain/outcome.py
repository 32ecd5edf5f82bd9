"""FHIR OperationOutcome issues: what went wrong and which element (`expression`) it was."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue; `code` is a FHIR issue-type (invalid, required, not-found...)."""

    code: str
    expression: str
    diagnostics: str
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity in ("error", "fatal")

    def resource(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
            "expression": [self.expression],
        }


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.resource() for i in issues]}


def http_status(issues: Iterable[Issue]) -> int:
    """The HTTP status an entry (or a whole transaction) gets for its error issues."""
    codes = {i.code for i in issues if i.is_error}
    if not codes:
        return 200
    if codes == {"conflict"}:
        return 409
    if codes <= {"business-rule", "required", "processing"}:
        return 422
    return 400


STATUS_TEXT = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    404: "404 Not Found",
    409: "409 Conflict",
    422: "422 Unprocessable Entity",
}


class FhirError(Exception):
    """A request answered with an OperationOutcome instead of a result."""

    def __init__(self, status: int, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = issues
