"""Reads the payer's 835 (005010X221A1): claim and line payments, reversals and PLB.

CLP02 = 22 is the reversal of a previous payment: its amounts come negative and take back
what the claim was paid. PLB adjustments belong to the provider, not to a claim: a positive
amount is withheld from the payment (e.g. WO overpayment recovery, L6 interest is negative),
so BPR02 = sum of CLP04 - sum of PLB amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pyx12.segment

from .readers import amount, el, segments

REVERSAL = "22"  # CLP02: reversal of previous payment


@dataclass(frozen=True)
class Adjustment:
    group: str  # CO contractual, PR patient responsibility, OA other, PI payer initiated
    reason: str  # CARC
    amount: Decimal
    quantity: Decimal | None = None


@dataclass
class LinePayment:
    line_id: str
    procedure: str
    charge: Decimal
    paid: Decimal
    units: Decimal
    revenue_code: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # RARCs (LQ*HE)


@dataclass
class ClaimPayment:
    patient_control_number: str
    status_code: str  # CLP02: 1 primary, 2 secondary, 4 denied, 22 reversal
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_id: str  # CLP07, the payer's claim control number
    adjustments: list[Adjustment] = field(default_factory=list)
    lines: list[LinePayment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # claim-level RARCs (MOA / MIA)

    @property
    def is_reversal(self) -> bool:
        return self.status_code == REVERSAL


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB adjustment: not tied to a claim, it changes the payment to the provider."""

    provider_id: str  # PLB01
    fiscal_period: str  # PLB02, CCYYMMDD
    reason: str  # PLB03-1 / 05-1 ...: e.g. WO overpayment recovery, L6 interest, FB forward
    reference: str  # PLB03-2: e.g. the claim the recovery is for
    amount: Decimal  # positive: withheld from the payment; negative: added to it


@dataclass
class Remittance:
    trace_number: str  # TRN02: the check or EFT number
    total_paid: Decimal  # BPR02
    payer_name: str
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    payer_id: str = ""  # TRN03 / REF*2U

    @property
    def balances(self) -> bool:
        """BPR02 equals the claim payments less the provider-level adjustments."""
        claims = sum((c.paid for c in self.claims), Decimal(0))
        plb = sum((a.amount for a in self.provider_adjustments), Decimal(0))
        return claims - plb == self.total_paid


def read_835(text: str) -> list[Remittance]:
    remits: list[Remittance] = []
    remit: Remittance | None = None
    claim: ClaimPayment | None = None
    line: LinePayment | None = None
    total = Decimal(0)
    for seg in segments(text):
        sid = seg.get_seg_id()
        if sid == "BPR":
            total = amount(seg, "BPR02")
        elif sid == "TRN":
            remit = Remittance(el(seg, "TRN02"), total, "", payer_id=el(seg, "TRN03"))
            remits.append(remit)
        elif remit is None:
            continue
        elif sid == "N1" and el(seg, "N101") == "PR":
            remit.payer_name = el(seg, "N102")
        elif sid == "CLP":
            claim, line = _claim(seg), None
            remit.claims.append(claim)
        elif sid == "SVC" and claim is not None:
            line = _line(seg)
            claim.lines.append(line)
        elif sid == "CAS" and claim is not None:
            target = line.adjustments if line is not None else claim.adjustments
            target.extend(_adjustments(seg))
        elif sid == "REF" and line is not None and el(seg, "REF01") == "6R":
            line.line_id = el(seg, "REF02")
        elif sid == "LQ" and line is not None and el(seg, "LQ01") == "HE":
            line.remarks.append(el(seg, "LQ02"))
        elif sid in ("MOA", "MIA") and claim is not None:
            claim.remarks.extend(_claim_remarks(seg, sid))
        elif sid == "PLB":
            remit.provider_adjustments.extend(_provider_adjustments(seg))
            claim = line = None
    return remits


def _claim(seg: pyx12.segment.Segment) -> ClaimPayment:
    return ClaimPayment(
        el(seg, "CLP01"),
        el(seg, "CLP02"),
        amount(seg, "CLP03"),
        amount(seg, "CLP04"),
        amount(seg, "CLP05"),
        el(seg, "CLP07"),
    )


def _line(seg: pyx12.segment.Segment) -> LinePayment:
    procedure = el(seg, "SVC01-2")
    revenue = el(seg, "SVC04")
    if el(seg, "SVC01-1") == "NU":
        revenue, procedure = procedure, ""
    return LinePayment(
        "",
        procedure,
        amount(seg, "SVC02"),
        amount(seg, "SVC03"),
        Decimal(el(seg, "SVC05") or "1"),
        revenue,
    )


def _adjustments(seg: pyx12.segment.Segment) -> list[Adjustment]:
    group = el(seg, "CAS01")
    out = []
    for n in range(6):
        reason = el(seg, f"CAS{2 + 3 * n:02d}")
        if not reason:
            continue
        qty = el(seg, f"CAS{4 + 3 * n:02d}")
        out.append(
            Adjustment(
                group, reason, amount(seg, f"CAS{3 + 3 * n:02d}"), Decimal(qty) if qty else None
            )
        )
    return out


def _claim_remarks(seg: pyx12.segment.Segment, sid: str) -> list[str]:
    # MOA03-07 (outpatient) and MIA05, MIA20-24 (inpatient) carry claim-level RARCs
    refs = ["MOA03", "MOA04", "MOA05", "MOA06", "MOA07"]
    if sid == "MIA":
        refs = ["MIA05", "MIA20", "MIA21", "MIA22", "MIA23"]
    return [code for code in (el(seg, ref) for ref in refs) if code]


def _provider_adjustments(seg: pyx12.segment.Segment) -> list[ProviderAdjustment]:
    out = []
    for n in range(6):
        reason = el(seg, f"PLB{3 + 2 * n:02d}-1")
        if not reason:
            continue
        out.append(
            ProviderAdjustment(
                el(seg, "PLB01"),
                el(seg, "PLB02"),
                reason,
                el(seg, f"PLB{3 + 2 * n:02d}-2"),
                amount(seg, f"PLB{4 + 2 * n:02d}"),
            )
        )
    return out
