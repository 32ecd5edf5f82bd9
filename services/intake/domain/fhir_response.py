"""The FHIR answer to a Bundle: a transaction-response or batch-response Bundle with a status,
a Location for each stored Encounter, and an OperationOutcome for each entry that has issues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.intake.domain.fhir_assembly import MappedEncounter
from services.intake.domain.fhir_mapping import ReadRequest
from services.intake.domain.outcome import STATUS_TEXT, Issue, http_status, operation_outcome

#: Resources an encounter document is made of; other types are context Chartflow skips.
USED_TYPES = frozenset(
    {
        "Encounter",
        "Patient",
        "RelatedPerson",
        "Coverage",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "DocumentReference",
        "DiagnosticReport",
        "Condition",
        "Procedure",
        "ChargeItem",
        "Claim",
    }
)


@dataclass(frozen=True)
class Stored:
    """What became of a picked encounter: its Chartflow id, or the issue that stopped it."""

    encounter_id: str | None
    created: bool = False
    conflict: Issue | None = None


def _entry(status: int, issues: list[Issue], location: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"status": STATUS_TEXT.get(status, str(status))}
    if location:
        response["location"] = location
    if issues:
        response["outcome"] = operation_outcome(issues)
    return {"response": response}


def _encounter_entry(mapped: MappedEncounter, stored: Stored | None) -> dict[str, Any]:
    if mapped.refusal is not None:
        note = Issue(
            "informational",
            mapped.entry.path,
            f"not taken by this hospital's intake rule: {mapped.refusal}",
            "information",
        )
        return _entry(200, [note])
    if stored is not None and stored.conflict is not None:
        return _entry(409, [*mapped.issues, stored.conflict])
    if mapped.failed or stored is None or stored.encounter_id is None:
        return _entry(http_status(mapped.issues), mapped.issues)
    location = f"Encounter/{stored.encounter_id}"
    return _entry(201 if stored.created else 200, mapped.issues, location)


def response_bundle(request: ReadRequest, stored: dict[MappedEncounter, Stored]) -> dict[str, Any]:
    """One response entry per request entry, in order (FHIR batch/transaction semantics)."""
    by_entry = {m.entry: m for m in request.encounters}
    entries = []
    for entry in request.index.entries:
        mapped = by_entry.get(entry)
        if mapped is not None:
            entries.append(_encounter_entry(mapped, stored.get(mapped)))
            continue
        issues = request.entry_issues.get(entry, [])
        if any(i.is_error for i in issues):
            entries.append(_entry(http_status(issues), issues))
        elif entry.type not in USED_TYPES:
            skipped = Issue(
                "informational", entry.path, f"{entry.type} is not used; skipped", "information"
            )
            entries.append(_entry(200, [skipped]))
        else:
            entries.append(_entry(200, issues))
    kind = "transaction-response" if request.kind == "transaction" else "batch-response"
    return {"resourceType": "Bundle", "type": kind, "entry": entries}
