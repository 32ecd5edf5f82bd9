"""Which claim and service line each segment of an 837 belongs to, read from the text.

pyx12 reports errors by segment position; this index ties them back to claims, and a
999 (which names transaction sets) back to the claims each transaction carried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .x12 import split_segments


@dataclass(frozen=True)
class SegmentOwner:
    position: int  # 1-based position in the interchange, ISA = 1 (pyx12's "line")
    seg_id: str
    group_control: str
    transaction_control: str
    claims: tuple[str, ...]  # patient control numbers the segment concerns
    line_id: str = ""


@dataclass
class Transaction837:
    group_control: str
    transaction_control: str
    version: str
    claims: list[str] = field(default_factory=list)


@dataclass
class Index837:
    segments: list[SegmentOwner]
    transactions: list[Transaction837]

    def owner(self, position: int) -> SegmentOwner | None:
        if 1 <= position <= len(self.segments):
            return self.segments[position - 1]
        return None

    def claims_in(self, group_control: str, transaction_control: str) -> list[str]:
        for t in self.transactions:
            if t.transaction_control == transaction_control and (
                not group_control or t.group_control == group_control
            ):
                return list(t.claims)
        return []


def index_837(text: str) -> Index837:
    _, segments = split_segments(text)
    owners: list[SegmentOwner] = []
    transactions: list[Transaction837] = []
    group = st = ""
    current: Transaction837 | None = None
    hl_claims: dict[str, list[str]] = {}  # HL id -> claims under it (filled as we go)
    hl_parent: dict[str, str] = {}
    hl_current = ""
    claim = line_id = ""
    pending: list[int] = []  # positions of HL-level segments waiting for their claims
    pending_hl: list[str] = []
    header_start = first_hl = 0
    for elements in segments:
        seg_id = elements[0]
        if seg_id == "GS":
            group = _el(elements, 6)
        elif seg_id == "ST":
            st = _el(elements, 2)
            current = Transaction837(group, st, _el(elements, 3))
            transactions.append(current)
            hl_claims, hl_parent, hl_current, claim = {}, {}, "", ""
        elif seg_id == "HL":
            first_hl = first_hl or len(owners) + 1
            hl_current = _el(elements, 1)
            hl_parent[hl_current] = _el(elements, 2)
            hl_claims[hl_current] = []
            claim = line_id = ""
        elif seg_id == "CLM":
            claim, line_id = _el(elements, 1), ""
            if current is not None:
                current.claims.append(claim)
            hl = hl_current
            while hl:
                hl_claims.setdefault(hl, []).append(claim)
                hl = hl_parent.get(hl, "")
        elif seg_id == "LX":
            line_id = ""
        elif seg_id == "REF" and _el(elements, 1) == "6R" and claim:
            line_id = _el(elements, 2)
            # the line's SV1/SV2 and DTP came before its REF*6R
            for i in range(len(owners) - 1, -1, -1):
                if owners[i].seg_id == "LX" or owners[i].claims != (claim,):
                    if owners[i].seg_id == "LX":
                        owners[i] = _with_line(owners[i], line_id)
                    break
                owners[i] = _with_line(owners[i], line_id)
        if seg_id in ("SE", "GE", "IEA", "GS", "ST", "ISA"):
            claim = ""
        position = len(owners) + 1
        if claim:
            owners.append(SegmentOwner(position, seg_id, group, st, (claim,), line_id))
        else:
            owners.append(SegmentOwner(position, seg_id, group, st, ()))
            if hl_current and seg_id not in ("SE", "GE", "IEA"):
                pending.append(position)
                pending_hl.append(hl_current)
        if seg_id == "ST":
            header_start = position
        if seg_id == "SE":
            # the transaction's header and trailer concern every claim in it
            every = tuple(current.claims) if current is not None else ()
            for pos in [*range(header_start, first_hl or position), position]:
                old = owners[pos - 1]
                owners[pos - 1] = SegmentOwner(
                    pos, old.seg_id, old.group_control, old.transaction_control, every
                )
            first_hl = 0
            # HL-level segments (provider, subscriber, patient) concern every claim below them
            for pos, hl in zip(pending, pending_hl, strict=True):
                old = owners[pos - 1]
                owners[pos - 1] = SegmentOwner(
                    pos,
                    old.seg_id,
                    old.group_control,
                    old.transaction_control,
                    tuple(hl_claims.get(hl, [])),
                )
            pending, pending_hl, hl_current = [], [], ""
    return Index837(owners, transactions)


def _with_line(owner: SegmentOwner, line_id: str) -> SegmentOwner:
    return SegmentOwner(
        owner.position,
        owner.seg_id,
        owner.group_control,
        owner.transaction_control,
        owner.claims,
        line_id,
    )


def _el(elements: list[str], n: int) -> str:
    return elements[n] if len(elements) > n else ""
