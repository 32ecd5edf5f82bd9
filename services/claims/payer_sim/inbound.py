"""What the payer reads from an 837: only what it needs to acknowledge and pay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from services.claims.domain.x12 import Separators, split_segments


@dataclass
class InboundLine:
    line_id: str
    qualifier: str  # HC (CPT/HCPCS) or empty for revenue-code-only lines
    procedure: str
    modifiers: tuple[str, ...]
    revenue_code: str
    charge: Decimal
    units: Decimal
    service_date: str = ""


@dataclass
class InboundClaim:
    patient_control_number: str
    charge: Decimal
    facility_code: str
    frequency: str
    institutional: bool
    billing_name: str
    billing_npi: str
    payer_name: str
    payer_id: str
    member_id: str
    patient_last: str
    patient_first: str
    statement_from: str = ""
    statement_to: str = ""
    filing_indicator: str = "CI"
    lines: list[InboundLine] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)  # HI codes, without dots
    original_reference: str = ""  # REF*F8: the payer's number of the claim this one corrects


@dataclass
class Inbound837:
    separators: Separators
    sender_id: str
    receiver_id: str
    group_controls: list[tuple[str, str]]  # (GS06, GS08)
    transactions: list[tuple[str, str, str]]  # (GS06, ST02, ST03)
    submitter_name: str
    submitter_id: str
    claims: list[InboundClaim]


def read_837(text: str) -> Inbound837:
    seps, segments = split_segments(text)
    isa = segments[0]
    groups: list[tuple[str, str]] = []
    transactions: list[tuple[str, str, str]] = []
    claims: list[InboundClaim] = []
    submitter = ("", "")
    billing = ("", "")
    payer = ("", "", "CI")
    subscriber = ("", "", "")  # member id, last, first
    person = ("", "")
    gs = ""
    st_version = ""
    claim: InboundClaim | None = None
    line: InboundLine | None = None
    for el in segments:
        sid = el[0]
        g = _getter(el)
        if sid == "GS":
            gs = g(6)
            groups.append((gs, g(8)))
        elif sid == "ST":
            st_version = g(3)
            transactions.append((gs, g(2), st_version))
        elif sid == "NM1":
            claim = claim if g(1) in ("82", "71") else None
            if g(1) == "41":
                submitter = (g(3), g(9))
            elif g(1) == "85":
                billing = (g(3), g(9))
            elif g(1) == "IL":
                subscriber = (g(9), g(3), g(4))
                person = (g(3), g(4))
            elif g(1) == "QC":
                person = (g(3), g(4))
            elif g(1) == "PR":
                payer = (g(3), g(9), payer[2])
        elif sid == "SBR":
            payer = (payer[0], payer[1], g(9) or "CI")
        elif sid == "CLM":
            place = g(5).split(seps.sub_element)
            claim = InboundClaim(
                patient_control_number=g(1),
                charge=Decimal(g(2) or "0"),
                facility_code=place[0],
                frequency=place[2] if len(place) > 2 else "1",
                institutional=st_version.startswith("005010X223"),
                billing_name=billing[0],
                billing_npi=billing[1],
                payer_name=payer[0],
                payer_id=payer[1],
                member_id=subscriber[0],
                patient_last=person[0],
                patient_first=person[1],
                filing_indicator=payer[2],
            )
            claims.append(claim)
            line = None
        elif sid == "DTP" and claim is not None:
            if g(1) == "434":
                claim.statement_from, _, claim.statement_to = g(3).partition("-")
            elif g(1) == "472" and line is not None:
                line.service_date = g(3)
        elif sid in ("SV1", "SV2") and claim is not None:
            code_el = g(1) if sid == "SV1" else g(2)
            parts = code_el.split(seps.sub_element) if code_el else []
            line = InboundLine(
                line_id="",
                qualifier=parts[0] if parts else "",
                procedure=parts[1] if len(parts) > 1 else "",
                modifiers=tuple(p for p in parts[2:6] if p),
                revenue_code=g(1) if sid == "SV2" else "",
                charge=Decimal((g(2) if sid == "SV1" else g(3)) or "0"),
                units=Decimal((g(4) if sid == "SV1" else g(5)) or "1"),
            )
            claim.lines.append(line)
        elif sid == "REF" and g(1) == "6R" and line is not None:
            line.line_id = g(2)
        elif sid == "REF" and g(1) == "F8" and claim is not None and line is None:
            claim.original_reference = g(2)
        elif sid == "HI" and claim is not None:
            claim.diagnoses += _diagnoses(el[1:], seps.sub_element)
        elif sid in ("LX", "HL", "SE"):
            line = None
            if sid != "LX":
                claim = None
    for c in claims:
        if c.statement_from == "" and c.lines:
            c.statement_from = c.statement_to = min(ln.service_date for ln in c.lines)
    return Inbound837(
        seps,
        isa[6].strip(),
        isa[8].strip(),
        groups,
        transactions,
        submitter[0],
        submitter[1],
        claims,
    )


# HI qualifiers of diagnosis codes (837P ABK/ABF, 837I also ABJ admitting, APR reason for
# visit, ABN external cause); procedure (BBR/BBQ) and other HI qualifiers are not diagnoses.
_DX_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF"})


def _diagnoses(composites: list[str], sub: str) -> list[str]:
    codes = []
    for composite in composites:
        parts = composite.split(sub)
        if len(parts) > 1 and parts[0] in _DX_QUALIFIERS:
            codes.append(parts[1])
    return codes


def _getter(elements: list[str]) -> Callable[[int], str]:
    return lambda n: elements[n] if len(elements) > n else ""
