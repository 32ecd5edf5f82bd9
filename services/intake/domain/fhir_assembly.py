"""One picked Encounter assembled into an encounter document from the resources around it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from services.intake.domain import fhir_parts as parts
from services.intake.domain.fhir_bundle import Conditional, Entry
from services.intake.domain.fhir_validate import validation_issues
from services.intake.domain.notes import note_kind
from services.intake.domain.outcome import Issue
from services.intake.domain.rules import HospitalIntakeSettings
from shared.events.intake import EncounterDocument

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PLACE_OF_SERVICE = {"professional": "11", "emergency": "23", "outpatient": "22", "inpatient": "21"}


@dataclass(eq=False)
class MappedEncounter:
    entry: Entry
    identifier: tuple[str, str] | None = None
    document: EncounterDocument | None = None
    refusal: str | None = None  # why the hospital's intake rule does not take it
    issues: list[Issue] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(i.is_error for i in self.issues)


class Parts(Protocol):
    """What the Bundle reader knows: validation, references, links to each Encounter."""

    settings: HospitalIntakeSettings
    entry_issues: dict[Entry, list[Issue]]
    links: dict[Entry, list[tuple[Entry, str]]]
    coverages: dict[Entry, list[Entry]]

    def valid(self, entry: Entry) -> list[Issue]: ...

    def resolve(self, reference: Any, at: str, owner: Entry) -> Entry | Conditional | None: ...


def external_id(system: str, value: str) -> str:
    """The encounter's external id: the identifier value, or a digest when it does not fit."""
    if EXTERNAL_ID.match(value):
        return value
    return "fhir-" + hashlib.sha256(f"{system}|{value}".encode()).hexdigest()[:40]


class EncounterAssembly:
    def __init__(self, reader: Parts, mapped: MappedEncounter, encounter_class: str) -> None:
        self.reader, self.mapped, self.encounter_class = reader, mapped, encounter_class
        self.entry = mapped.entry
        self.sources: parts.Sources = {}

    def issue(self, code: str, at: str, text: str, severity: str = "error") -> None:
        self.mapped.issues.append(Issue(code, at, text, severity))

    def use(self, entry: Entry) -> bool:
        """Validate a part; its errors fail this encounter."""
        problems = self.reader.valid(entry)
        self.mapped.issues.extend(problems)
        return not any(p.is_error for p in problems)

    def resolve(self, reference: Any, element: str, owner: Entry) -> Entry | Conditional | None:
        before = len(self.reader.entry_issues.get(owner, []))
        target = self.reader.resolve(reference, owner.at(element), owner)
        self.mapped.issues.extend(self.reader.entry_issues.get(owner, [])[before:])
        return target

    def document(self, documents: list[Any], charges: list[Any]) -> None:
        """Check the assembled fields as an encounter document (when nothing failed before)."""
        identifier, n = parts.pick(self.entry.resource.get("identifier"), ("official", "usual"))
        if not identifier.get("system") or not identifier.get("value"):
            self.issue("required", self.entry.at("identifier"), "needs a system and a value")
            return
        self.mapped.identifier = (str(identifier["system"]), str(identifier["value"]))
        doc = self._encounter_fields()
        doc["patient"], doc["coverage"] = self._patient_and_coverage(doc.get("service_date"))
        doc["providers"] = self._providers()
        doc["documents"], doc["charges"] = documents, charges
        if self.mapped.failed:
            return
        doc["external_id"] = external_id(*self.mapped.identifier)
        self.sources["external_id"] = self.entry.at(f"identifier[{n}].value")
        try:
            self.mapped.document = EncounterDocument.model_validate(doc)
        except ValidationError as exc:
            self.mapped.issues.extend(validation_issues(exc, self._source))

    def _source(self, element: str) -> str:
        """The FHIR expression a document field came from (its nearest recorded parent's)."""
        key = element
        while key and key not in self.sources:
            parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", key)
            key = "" if parent == key else parent
        return self.sources.get(key, self.entry.path)

    def _encounter_fields(self) -> dict[str, Any]:
        r, at = self.entry.resource, self.entry.at
        period = parts.obj(r.get("period"))
        self.sources.update(
            {
                "service_date": at("period.start"),
                "discharge_date": at("period.end"),
                "specialty": at("serviceType"),
            }
        )
        virtual = parts.obj(r.get("class")).get("code") == "VR"
        doc: dict[str, Any] = {
            "encounter_class": self.encounter_class,
            "service_date": parts.day(period.get("start")),
            "place_of_service": "02" if virtual else PLACE_OF_SERVICE[self.encounter_class],
        }
        specialty = note_kind(r.get("serviceType"), "")
        if specialty:
            doc["specialty"] = specialty
        if self.encounter_class == "inpatient":
            doc["discharge_date"] = parts.day(period.get("end"))
            doc["admission"] = parts.admission(self.entry, self.sources)
        return doc

    def _patient_and_coverage(self, service_date: str | None) -> tuple[Any, Any]:
        patient = self.resolve(self.entry.resource.get("subject"), "subject", self.entry)
        if not isinstance(patient, Entry) or patient.type != "Patient":
            if patient is not None or not self.mapped.failed:
                self.issue("not-found", self.entry.at("subject"), "must be a Patient of the Bundle")
            return None, None
        if not self.use(patient):
            return None, None
        return parts.person(patient, "patient", self.sources), self._coverage(patient, service_date)

    def _coverage(self, patient: Entry, service_date: str | None) -> Any:
        def covers(c: Entry) -> bool:
            period = parts.obj(c.resource.get("period"))
            start, end = parts.day(period.get("start")), parts.day(period.get("end"))
            return c.resource.get("status") in (None, "active") and (
                service_date is None
                or ((not start or start <= service_date) and (not end or service_date <= end))
            )

        found = sorted(
            (c for c in self.reader.coverages.get(patient, []) if covers(c)),
            key=lambda c: c.resource.get("order") or 1,
        )
        if not found:
            self.issue(
                "required",
                self.entry.at("subject"),
                "no active Coverage whose beneficiary is this patient covers the encounter's date",
            )
            return None
        coverage = found[0]
        if not self.use(coverage):
            return None
        return self._coverage_fields(coverage)

    def _coverage_fields(self, coverage: Entry) -> dict[str, Any]:
        r, at = coverage.resource, coverage.at
        payor = self.resolve((r.get("payor") or [None])[0], "payor[0]", coverage)
        if isinstance(payor, Entry):
            self.use(payor)
        payer_id = parts.payer_id(payor, self.reader.settings.fhir.payer_identifier_system)
        payer_name = payor.resource.get("name") if isinstance(payor, Entry) else None
        if isinstance(payor, Conditional):
            payer_name = self.reader.settings.payers.get(payer_id or "") or payor.display
        relationship = parts.codes(r.get("relationship"))
        self.sources.update(
            {
                "coverage.payer_id": at("payor[0]"),
                "coverage.payer_name": at("payor[0]"),
                "coverage.member_id": at("subscriberId"),
                "coverage.relationship": at("relationship"),
                "coverage": coverage.path,
            }
        )
        result: dict[str, Any] = {
            "payer_id": payer_id,
            "payer_name": payer_name or payer_id,
            "member_id": r.get("subscriberId") or parts.identifier_value(coverage),
            "relationship": parts.RELATIONSHIP.get(relationship[0][1], "other")
            if relationship
            else "self",
        }
        if result["relationship"] != "self":
            subscriber = self.resolve(r.get("subscriber"), "subscriber", coverage)
            if (
                isinstance(subscriber, Entry)
                and subscriber.type in ("Patient", "RelatedPerson")
                and self.use(subscriber)
            ):
                result["subscriber"] = parts.person(subscriber, "coverage.subscriber", self.sources)
        return result

    def _providers(self) -> list[dict[str, Any]]:
        default = "rendering" if self.encounter_class == "professional" else "attending"
        found: list[dict[str, Any]] = []
        for k, participant in enumerate(self.entry.resource.get("participant") or []):
            element = f"participant[{k}].individual"
            target = self.resolve(participant.get("individual"), element, self.entry)
            npi = self._npi(target)
            if npi is None:
                if target is not None:
                    self.issue("not-found", self.entry.at(element), "no NPI; left out", "warning")
                continue
            roles = [c for t in participant.get("type") or [] for _, c in parts.codes(t)]
            role = next(
                (parts.PARTICIPANT_ROLES[c] for c in roles if c in parts.PARTICIPANT_ROLES), default
            )
            provider: dict[str, Any] = {"npi": npi, "role": role}
            if isinstance(target, Entry) and target.type == "Practitioner":
                provider["name"] = parts.practitioner_name(target)
            if all((p["npi"], p["role"]) != (npi, role) for p in found):
                self.sources[f"providers[{len(found)}]"] = self.entry.at(element)
                found.append(provider)
        broken = any(
            i.code == "not-found" and ".participant[" in i.expression for i in self.mapped.issues
        )
        if not found and not broken:
            self.issue("required", self.entry.at("participant"), "no participant with an NPI")
        return found

    def _npi(self, target: Entry | Conditional | None) -> str | None:
        if isinstance(target, Conditional):
            if target.resource_type in ("Practitioner", "PractitionerRole"):
                return parts.identifier_value(target, parts.NPI_SYSTEM)
            return None
        if not isinstance(target, Entry) or target.type not in ("Practitioner", "PractitionerRole"):
            return None
        if not self.use(target):
            return None
        npi = parts.identifier_value(target, parts.NPI_SYSTEM)
        if npi is None and target.type == "PractitionerRole":
            practitioner = self.resolve(target.resource.get("practitioner"), "practitioner", target)
            return self._npi(practitioner) if isinstance(practitioner, Entry) else None
        return npi
