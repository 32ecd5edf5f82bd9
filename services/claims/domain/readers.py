"""Reads the payer's answers: 999 (syntax), 277CA (claim acknowledgment), 835 (payment)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pyx12.segment
import pyx12.x12file

# 277CA claim status categories (code source 507) that mean the payer took the claim in.
ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})


@dataclass(frozen=True)
class SegmentError:
    seg_id: str
    position: int  # segment position inside the transaction set (ST = 1)
    loop_id: str
    code: str  # IK304 implementation segment syntax error code
    element: str = ""  # IK401 position, e.g. "2" or "5-1"
    element_code: str = ""  # IK403
    bad_value: str = ""


@dataclass(frozen=True)
class TransactionAck:
    group_control: str
    transaction_control: str
    transaction_set: str  # 837
    code: str  # IK501: A accepted, E accepted with errors, R rejected, ...
    segment_errors: tuple[SegmentError, ...] = ()
    set_errors: tuple[str, ...] = ()  # IK502..IK506

    @property
    def accepted(self) -> bool:
        return self.code in ("A", "E")


@dataclass(frozen=True)
class Ack999:
    group_control: str
    group_code: str  # AK901
    transactions: tuple[TransactionAck, ...]


@dataclass(frozen=True)
class ClaimAck:
    patient_control_number: str
    category: str  # STC01-1, e.g. A2 accepted, A7 rejected for invalid information
    status_code: str  # STC01-2, claim status code (code source 508)
    entity: str = ""  # STC01-3
    action: str = ""  # STC03: WQ accepted, U rejected
    charge: Decimal = Decimal(0)
    payer_claim_id: str = ""
    free_text: str = ""

    @property
    def accepted(self) -> bool:
        return self.category in ACCEPTED_CATEGORIES and self.action != "U"


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


@dataclass
class ClaimPayment:
    patient_control_number: str
    status_code: str  # CLP02: 1 primary, 2 secondary, 4 denied, 22 reversal
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_id: str
    adjustments: list[Adjustment] = field(default_factory=list)
    lines: list[LinePayment] = field(default_factory=list)


@dataclass
class Remittance:
    trace_number: str
    total_paid: Decimal
    payer_name: str
    claims: list[ClaimPayment] = field(default_factory=list)


def _segments(text: str) -> Iterator[pyx12.segment.Segment]:
    yield from pyx12.x12file.X12Reader(io.StringIO(text))


def _v(seg: pyx12.segment.Segment, ref: str) -> str:
    try:
        return seg.get_value(ref) or ""
    except IndexError:
        return ""


def _money(seg: pyx12.segment.Segment, ref: str) -> Decimal:
    value = _v(seg, ref)
    return Decimal(value) if value else Decimal(0)


def read_999(text: str) -> list[Ack999]:
    acks: list[Ack999] = []
    group_control = group_code = ""
    transactions: list[TransactionAck] = []
    current: dict[str, str] = {}
    seg_errors: list[SegmentError] = []
    for seg in _segments(text):
        sid = seg.get_seg_id()
        if sid == "AK1":
            group_control, transactions = _v(seg, "AK102"), []
        elif sid == "AK2":
            current = {"set": _v(seg, "AK201"), "control": _v(seg, "AK202")}
            seg_errors = []
        elif sid == "IK3":
            seg_errors.append(
                SegmentError(
                    _v(seg, "IK301"), int(_v(seg, "IK302") or 0), _v(seg, "IK303"), _v(seg, "IK304")
                )
            )
        elif sid == "IK4" and seg_errors:
            # One error per IK4: a segment (IK3) may have several bad elements.
            last = seg_errors[-1]
            if last.element:
                last = SegmentError(last.seg_id, last.position, last.loop_id, last.code)
            else:
                seg_errors.pop()
            element = _v(seg, "IK401-1")
            if _v(seg, "IK401-2"):
                element += "-" + _v(seg, "IK401-2")
            seg_errors.append(
                SegmentError(
                    last.seg_id,
                    last.position,
                    last.loop_id,
                    last.code,
                    element,
                    _v(seg, "IK403"),
                    _v(seg, "IK404"),
                )
            )
        elif sid == "IK5":
            transactions.append(
                TransactionAck(
                    group_control,
                    current.get("control", ""),
                    current.get("set", ""),
                    _v(seg, "IK501"),
                    tuple(seg_errors),
                    tuple(c for c in (_v(seg, f"IK50{n}") for n in range(2, 7)) if c),
                )
            )
        elif sid == "AK9":
            group_code = _v(seg, "AK901")
            acks.append(Ack999(group_control, group_code, tuple(transactions)))
    return acks


def read_277ca(text: str) -> list[ClaimAck]:
    acks: list[ClaimAck] = []
    level = ""
    pcn = ""
    stc: pyx12.segment.Segment | None = None
    payer_claim_id = ""

    def flush() -> None:
        if level == "PT" and pcn and stc is not None:
            acks.append(
                ClaimAck(
                    pcn,
                    _v(stc, "STC01-1"),
                    _v(stc, "STC01-2"),
                    _v(stc, "STC01-3"),
                    _v(stc, "STC03"),
                    _money(stc, "STC04"),
                    payer_claim_id,
                    _v(stc, "STC12"),
                )
            )

    for seg in _segments(text):
        sid = seg.get_seg_id()
        if sid in ("HL", "SE"):
            flush()
            level = _v(seg, "HL03") if sid == "HL" else ""
            pcn, stc, payer_claim_id = "", None, ""
        elif level == "PT":
            if sid == "TRN":
                pcn = _v(seg, "TRN02")
            elif sid == "STC" and stc is None:  # the first STC is the claim's status
                stc = seg
            elif sid == "REF" and _v(seg, "REF01") == "1K":
                payer_claim_id = _v(seg, "REF02")
    return acks


def read_835(text: str) -> list[Remittance]:
    remits: list[Remittance] = []
    remit: Remittance | None = None
    claim: ClaimPayment | None = None
    line: LinePayment | None = None
    total = Decimal(0)
    for seg in _segments(text):
        sid = seg.get_seg_id()
        if sid == "BPR":
            total = _money(seg, "BPR02")
        elif sid == "TRN":
            remit = Remittance(_v(seg, "TRN02"), total, "")
            remits.append(remit)
        elif sid == "N1" and remit is not None and _v(seg, "N101") == "PR":
            remit.payer_name = _v(seg, "N102")
        elif sid == "CLP" and remit is not None:
            claim = ClaimPayment(
                _v(seg, "CLP01"),
                _v(seg, "CLP02"),
                _money(seg, "CLP03"),
                _money(seg, "CLP04"),
                _money(seg, "CLP05"),
                _v(seg, "CLP07"),
            )
            remit.claims.append(claim)
            line = None
        elif sid == "SVC" and claim is not None:
            procedure = _v(seg, "SVC01-2")
            revenue = _v(seg, "SVC04")
            if _v(seg, "SVC01-1") == "NU":
                revenue, procedure = procedure, ""
            line = LinePayment(
                "",
                procedure,
                _money(seg, "SVC02"),
                _money(seg, "SVC03"),
                Decimal(_v(seg, "SVC05") or "1"),
                revenue,
            )
            claim.lines.append(line)
        elif sid == "CAS" and claim is not None:
            target = line.adjustments if line is not None else claim.adjustments
            target.extend(_adjustments(seg))
        elif sid == "REF" and line is not None and _v(seg, "REF01") == "6R":
            line.line_id = _v(seg, "REF02")
    return remits


def _adjustments(seg: pyx12.segment.Segment) -> list[Adjustment]:
    group = _v(seg, "CAS01")
    out = []
    for n in range(6):
        reason = _v(seg, f"CAS{2 + 3 * n:02d}")
        if not reason:
            continue
        qty = _v(seg, f"CAS{4 + 3 * n:02d}")
        out.append(
            Adjustment(
                group, reason, _money(seg, f"CAS{3 + 3 * n:02d}"), Decimal(qty) if qty else None
            )
        )
    return out
