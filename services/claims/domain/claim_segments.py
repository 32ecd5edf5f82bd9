"""The 2300 claim loop and its 2400 service lines, for 837P and 837I."""

from __future__ import annotations

from .model import Claim, ClaimType
from .x12 import SegmentWriter, d8, money, no_dot, quantity

HI_PER_SEGMENT = 12


def write_claim(w: SegmentWriter, claim: Claim) -> None:
    if claim.claim_type is ClaimType.PROFESSIONAL:
        _professional(w, claim)
    else:
        _institutional(w, claim)


def _professional(w: SegmentWriter, claim: Claim) -> None:
    w.add(
        "CLM",
        claim.patient_control_number,
        money(claim.total_charge),
        "",
        "",
        w.composite(claim.place_of_service, "B", claim.frequency),
        "Y",  # provider signature on file
        "A",  # assignment accepted
        "Y",  # benefits assigned
        "Y",  # release of information
    )
    _original_reference(w, claim)
    if claim.diagnoses:
        codes = [no_dot(d.code) for d in claim.diagnoses]
        w.add(
            "HI",
            w.composite("ABK", codes[0]),
            *(w.composite("ABF", c) for c in codes[1:HI_PER_SEGMENT]),
        )
    if claim.rendering is not None:
        r = claim.rendering
        w.add("NM1", "82", "1", r.last_name, r.first_name, "", "", "", "XX", r.npi)
    for number, line in enumerate(claim.lines, start=1):
        w.add("LX", str(number))
        w.add(
            "SV1",
            w.composite("HC", line.procedure_code, *line.modifiers),
            money(line.charge),
            "UN",
            quantity(line.units),
            "",
            "",
            w.composite(*(str(p) for p in line.dx_pointers)),
        )
        w.add("DTP", "472", "D8", d8(line.service_date))
        w.add("REF", "6R", line.line_id)


def _institutional(w: SegmentWriter, claim: Claim) -> None:
    w.add(
        "CLM",
        claim.patient_control_number,
        money(claim.total_charge),
        "",
        "",
        w.composite(claim.facility_type, "A", claim.frequency),
        "",
        "A",
        "Y",
        "Y",
    )
    stay = claim.inpatient
    if stay is not None and stay.discharge_hour:
        w.add("DTP", "096", "TM", stay.discharge_hour)
    w.add("DTP", "434", "RD8", f"{d8(claim.statement_from)}-{d8(claim.statement_to)}")
    if stay is not None:
        w.add("DTP", "435", "DT", d8(stay.admission_date) + stay.admission_hour)
        w.add("CL1", stay.admission_type, stay.admission_source, stay.discharge_status)
    else:
        # Outpatient and ED: priority of the visit and point of origin (NUBC), discharged home.
        w.add("CL1", claim.visit_type, claim.visit_source, "01")
    _original_reference(w, claim)
    if claim.diagnoses:
        first, *others = claim.diagnoses
        w.add("HI", _dx(w, "ABK", first.code, first.poa))
        if claim.admitting_diagnosis:
            w.add("HI", w.composite("ABJ", no_dot(claim.admitting_diagnosis)))
        if stay is None:
            # Patient's reason for visit, required on outpatient visits: the first-listed code.
            w.add("HI", w.composite("APR", no_dot(first.code)))
        # External causes (V00-Y99) have their own HI on the 837I (UB-04 external cause fields).
        external = [d for d in others if is_external_cause(d.code)][:HI_PER_SEGMENT]
        if external:
            w.add("HI", *(_dx(w, "ABN", d.code, d.poa) for d in external))
        others = [d for d in others if d not in external]
        for start in range(0, len(others), HI_PER_SEGMENT):
            chunk = others[start : start + HI_PER_SEGMENT]
            w.add("HI", *(_dx(w, "ABF", d.code, d.poa) for d in chunk))
    if claim.procedures:
        first_pcs, *other_pcs = claim.procedures
        w.add("HI", w.composite("BBR", no_dot(first_pcs.code), "D8", d8(first_pcs.performed_on)))
        for start in range(0, len(other_pcs), HI_PER_SEGMENT):
            pcs_chunk = other_pcs[start : start + HI_PER_SEGMENT]
            w.add(
                "HI",
                *(w.composite("BBQ", no_dot(p.code), "D8", d8(p.performed_on)) for p in pcs_chunk),
            )
    if claim.rendering is not None:
        r = claim.rendering
        w.add("NM1", "71", "1", r.last_name, r.first_name, "", "", "", "XX", r.npi)
    for number, line in enumerate(claim.lines, start=1):
        w.add("LX", str(number))
        procedure = (
            w.composite("HC", line.procedure_code, *line.modifiers) if line.procedure_code else ""
        )
        w.add(
            "SV2",
            line.revenue_code,
            procedure,
            money(line.charge),
            "UN",
            quantity(line.units),
        )
        w.add("DTP", "472", "D8", d8(line.service_date))
        w.add("REF", "6R", line.line_id)


def _original_reference(w: SegmentWriter, claim: Claim) -> None:
    # Loop 2300 REF*F8 (payer claim control number) follows the claim's DTP/CL1 and comes
    # before its HI: a replacement (7) or void (8) names the claim it corrects.
    if claim.original_reference:
        w.add("REF", "F8", claim.original_reference)


def _dx(w: SegmentWriter, qualifier: str, code: str, poa: str) -> str:
    # C022-09 carries the present-on-admission indicator; "1" (exempt from POA reporting) is
    # reported as a blank on the 5010 837I.
    return w.composite(qualifier, no_dot(code), "", "", "", "", "", "", "" if poa == "1" else poa)


def is_external_cause(code: str) -> bool:
    return code[:1].upper() in ("V", "W", "X", "Y")
