"""A FHIR R4 Bundle (or one Encounter with contained parts) read as encounter documents.

Encounters are picked by the hospital's intake rule; each picked one is assembled from the
resources that reference it (notes, conditions, procedures, charges) and those it references
(patient, coverage and payer, practitioners), validated with the R4B models, and checked
against the encounter document. Problems become OperationOutcome issues naming the element.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.intake.domain import fhir_parts as parts
from services.intake.domain.fhir_assembly import EncounterAssembly, MappedEncounter
from services.intake.domain.fhir_bundle import (
    BrokenReference,
    Conditional,
    Entry,
    ResourceIndex,
    as_list,
)
from services.intake.domain.fhir_documents import charges, notes
from services.intake.domain.fhir_validate import validate
from services.intake.domain.outcome import FhirError, Issue
from services.intake.domain.rules import HospitalIntakeSettings, fhir_rule_refusal

BUNDLE_TYPES = ("transaction", "batch", "collection")


@dataclass
class ReadRequest:
    kind: str  # transaction | batch | collection | encounter
    index: ResourceIndex
    encounters: list[MappedEncounter]
    entry_issues: dict[Entry, list[Issue]]

    def errors(self) -> list[Issue]:
        found = [i for issues in self.entry_issues.values() for i in issues if i.is_error]
        found += [i for m in self.encounters for i in m.issues if i.is_error]
        return list(dict.fromkeys(found))


def read_bundle(body: Any, settings: HospitalIntakeSettings) -> ReadRequest:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError(400, [Issue("invalid", "Bundle", "the body is not a FHIR Bundle")])
    kind = body.get("type")
    if kind not in BUNDLE_TYPES:
        raise FhirError(
            400,
            [
                Issue(
                    "not-supported", "Bundle.type", "type must be transaction, batch or collection"
                )
            ],
        )
    entries: list[Entry] = []
    issues: dict[Entry, list[Issue]] = defaultdict(list)
    listed: list[Any] = body["entry"] if isinstance(body.get("entry"), list) else []
    for n, item in enumerate(listed):
        item, at = parts.obj(item), f"Bundle.entry[{n}]"
        resource = parts.obj(item.get("resource"))
        entries.append(Entry(f"{at}.resource", resource, str(item.get("fullUrl") or "") or None))
        if not resource.get("resourceType"):
            issues[entries[-1]].append(Issue("required", f"{at}.resource", "no resource"))
        method = parts.obj(item.get("request")).get("method") if kind != "collection" else "POST"
        if method not in ("POST", "PUT"):
            issues[entries[-1]].append(
                Issue("not-supported", f"{at}.request.method", "only POST or PUT")
            )
    return _Reader(kind, ResourceIndex(entries), settings, issues).read()


def read_encounter(body: Any, settings: HospitalIntakeSettings) -> ReadRequest:
    """One Encounter posted alone, its parts contained in it (or named by identifier)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Encounter":
        raise FhirError(400, [Issue("invalid", "Encounter", "the body is not an Encounter")])
    return _Reader("encounter", ResourceIndex([Entry("Encounter", body)]), settings, {}).read()


def _encounter_references(entry: Entry) -> list[tuple[str, Any]]:
    """(element, reference) of every link from a part resource to its Encounter."""
    r = entry.resource
    if entry.type == "DocumentReference":
        context = parts.obj(r.get("context"))
        return [
            (f"context.encounter[{n}]", x) for n, x in enumerate(as_list(context.get("encounter")))
        ]
    if entry.type in ("DiagnosticReport", "Condition", "Procedure"):
        return [("encounter", r.get("encounter"))]
    if entry.type == "ChargeItem":
        return [("context", r.get("context"))]
    if entry.type == "Claim":
        return [
            (f"item[{i}].encounter[{n}]", ref)
            for i, item in enumerate(as_list(r.get("item")))
            for n, ref in enumerate(as_list(parts.obj(item).get("encounter")))
        ]
    return []


class _Reader:
    def __init__(
        self,
        kind: str,
        index: ResourceIndex,
        settings: HospitalIntakeSettings,
        issues: dict[Entry, list[Issue]],
    ) -> None:
        self.kind, self.index, self.settings = kind, index, settings
        self.entry_issues: dict[Entry, list[Issue]] = defaultdict(list, issues)
        self.links: dict[Entry, list[tuple[Entry, str]]] = defaultdict(list)
        self.coverages: dict[Entry, list[Entry]] = defaultdict(list)
        self._validated: dict[Entry, list[Issue]] = {}

    def read(self) -> ReadRequest:
        self._link_parts()
        encounters = [self._encounter(e) for e in self.index.of_type("Encounter")]
        return ReadRequest(self.kind, self.index, encounters, dict(self.entry_issues))

    def valid(self, entry: Entry) -> list[Issue]:
        if entry not in self._validated:
            self._validated[entry] = validate(entry)
            self.entry_issues[entry].extend(self._validated[entry])
        return self._validated[entry]

    def resolve(self, reference: Any, at: str, owner: Entry) -> Entry | Conditional | None:
        try:
            return self.index.resolve(reference, at, owner)
        except BrokenReference as broken:
            if broken.issue not in self.entry_issues[owner]:
                self.entry_issues[owner].append(broken.issue)
            return None

    def _link_parts(self) -> None:
        for entry in self.index.all():
            for element, ref in _encounter_references(entry):
                target = self.resolve(ref, entry.at(element), entry)
                if isinstance(target, Entry) and target.type == "Encounter":
                    self.links[target].append((entry, element))
            if entry.type == "Coverage":
                patient = self.resolve(
                    entry.resource.get("beneficiary"), entry.at("beneficiary"), entry
                )
                if isinstance(patient, Entry):
                    self.coverages[patient].append(entry)

    def _encounter(self, entry: Entry) -> MappedEncounter:
        mapped = MappedEncounter(entry, issues=list(self.valid(entry)))
        if mapped.failed:
            return mapped
        r = entry.resource
        class_code = parts.obj(r.get("class")).get("code")
        period = parts.obj(r.get("period"))
        start = parts.day(period.get("start"))
        providers = None
        if self.settings.fhir.service_providers:
            target = self.resolve(r.get("serviceProvider"), entry.at("serviceProvider"), entry)
            providers = [v for _, v in target.identifiers()] if isinstance(target, Entry) else []
            if isinstance(target, Conditional) and target.value:
                providers = [target.value]
        mapped.refusal = fhir_rule_refusal(
            self.settings.fhir,
            class_code,
            r.get("status"),
            date.fromisoformat(start) if start else None,
            providers,
        )
        if mapped.refusal is None:
            assembly = EncounterAssembly(self, mapped, self.settings.fhir.classes[str(class_code)])
            assembly.document(notes(assembly), charges(assembly))
        mapped.issues = list(dict.fromkeys([*mapped.issues, *self.entry_issues.get(entry, [])]))
        return mapped
