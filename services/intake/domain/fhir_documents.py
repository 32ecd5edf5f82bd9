"""An encounter's notes and charges, from the resources that reference it: DocumentReference
and DiagnosticReport attachments, Conditions and Procedures as documentation, ChargeItems (or,
without any, the lines of a Claim)."""

from __future__ import annotations

from typing import Any

from services.intake.domain import fhir_parts as parts
from services.intake.domain.fhir_assembly import EncounterAssembly
from services.intake.domain.fhir_bundle import Entry
from services.intake.domain.notes import (
    AttachmentError,
    attachment_text,
    concept_label,
    documented,
    note_kind,
)

BILLABLE = {"billable", "billed"}


def notes(asm: EncounterAssembly) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    conditions: list[str] = []
    procedures: list[str] = []
    seen: set[Entry] = set()
    for part, _ in asm.reader.links.get(asm.entry, []):
        if part in seen or part.type in ("Claim", "ChargeItem"):
            continue
        seen.add(part)
        r = part.resource
        if r.get("status") == "entered-in-error" or not asm.use(part):
            continue
        if part.type == "DocumentReference":
            kind = note_kind(r.get("type"), "clinical_note")
            for k, content in enumerate(r.get("content") or []):
                _note(asm, found, part, f"content[{k}].attachment", content.get("attachment"), kind)
        elif part.type == "DiagnosticReport":
            kind = note_kind(r.get("code"), "diagnostic_report")
            for k, form in enumerate(r.get("presentedForm") or []):
                _note(asm, found, part, f"presentedForm[{k}]", form, kind)
            if r.get("conclusion"):
                asm.sources[f"documents[{len(found)}]"] = part.at("conclusion")
                found.append({"kind": kind, "text": str(r["conclusion"])})
        elif part.type == "Condition":
            onset = parts.day(r.get("onsetDateTime"))
            conditions.append(concept_label(r.get("code")) + (f" onset {onset}" if onset else ""))
        elif part.type == "Procedure":
            performed = r.get("performedDateTime") or (r.get("performedPeriod") or {}).get("start")
            on = parts.day(performed)
            procedures.append(concept_label(r.get("code")) + (f" on {on}" if on else ""))
    if not found:
        asm.issue(
            "required",
            asm.entry.path,
            "no note: a DocumentReference or DiagnosticReport with a text attachment "
            "must reference this Encounter",
        )
    if conditions:
        found.append(
            {"kind": "documented_conditions", "text": documented("Conditions", conditions)}
        )
    if procedures:
        found.append(
            {"kind": "documented_procedures", "text": documented("Procedures", procedures)}
        )
    return found


def _note(
    asm: EncounterAssembly,
    found: list[dict[str, Any]],
    part: Entry,
    element: str,
    attachment: Any,
    kind: str,
) -> None:
    try:
        text = attachment_text(attachment if isinstance(attachment, dict) else {})
    except AttachmentError as exc:
        asm.issue("not-supported", part.at(element), f"not used as a note: {exc}", "warning")
        return
    asm.sources[f"documents[{len(found)}]"] = part.at(element)
    found.append({"kind": kind, "text": text})


def charges(asm: EncounterAssembly) -> list[dict[str, Any]]:
    links = asm.reader.links.get(asm.entry, [])
    items = [p for p, _ in links if p.type == "ChargeItem"]
    lines: list[dict[str, Any]] = []
    for part in items:
        r = part.resource
        if str(r.get("status")) not in BILLABLE or not asm.use(part):
            continue
        price = parts.money(r.get("priceOverride"))
        line = parts.charge_line([r.get("code")], r.get("quantity"), price)
        if "code" not in line and "revenue_code" not in line:
            asm.issue("not-supported", part.at("code"), "no CPT, HCPCS or revenue code", "warning")
            continue
        _sources(asm, len(lines), part, "code", "priceOverride", "quantity")
        lines.append(line)
    if items:
        return lines
    for part, element in links:  # No ChargeItem: the lines of the hospital's Claim.
        if part.type != "Claim" or not asm.use(part):
            continue
        at_item = element.split(".encounter")[0]
        item = part.resource["item"][int(at_item[len("item[") : -1])]
        concepts = [item.get("productOrService"), item.get("revenue")]
        line = parts.charge_line(concepts, item.get("quantity"), parts.money(item.get("net")))
        if "code" in line or "revenue_code" in line:  # Other systems (SNOMED) are not billed.
            _sources(asm, len(lines), part, f"{at_item}.productOrService", f"{at_item}.net",
                     f"{at_item}.quantity")  # fmt: skip
            lines.append(line)
    return lines


def _sources(
    asm: EncounterAssembly, n: int, part: Entry, code: str, price: str, quantity: str
) -> None:
    asm.sources.update(
        {
            f"charges[{n}]": part.at(code),
            f"charges[{n}].code": part.at(code),
            f"charges[{n}].revenue_code": part.at(code),
            f"charges[{n}].charge": part.at(price),
            f"charges[{n}].units": part.at(quantity),
        }
    )
