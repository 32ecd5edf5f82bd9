"""Denial and rejection triage: each adjustment or rejection the payer sends is coding-caused,
billing-caused (registration, eligibility, provider data, submission) or the payer's
(contract, plan, the patient's share), from `data/denial_triage.csv` and its sources.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from .model import Claim
from .readers import ClaimAck
from .remittance import Adjustment, ClaimPayment, LinePayment

TABLE = Path(__file__).resolve().parents[1] / "data" / "denial_triage.csv"


class Cause(StrEnum):
    CODING = "coding"  # back to the coder who coded it
    BILLING = "billing"  # the hospital's billing office
    PAYER = "payer"  # contract, plan or patient share: nobody corrects the claim


@dataclass(frozen=True)
class TriageRule:
    kind: str  # group | carc | rarc | 277ca
    code: str
    remark: str  # for a rarc: the CARC it refines
    cause: Cause
    meaning: str
    source: str


@dataclass(frozen=True)
class Verdict:
    cause: Cause
    meaning: str
    remark: str = ""  # the RARC that decided it, if one did


NOT_IN_TABLE = "not in the triage table: the hospital's billing office looks at it"


@dataclass(frozen=True)
class TriageTable:
    rules: dict[tuple[str, str, str], TriageRule]

    @classmethod
    def read(cls, path: Path = TABLE) -> TriageTable:
        with path.open(encoding="utf-8", newline="") as f:
            rows = csv.DictReader(line for line in f if not line.startswith("#"))
            rules = [
                TriageRule(
                    r["kind"], r["code"], r["remark"], Cause(r["cause"]), r["meaning"], r["source"]
                )
                for r in rows
            ]
        return cls({(r.kind, r.code, r.remark): r for r in rules})

    def _verdict(self, kind: str, code: str, remark: str = "") -> Verdict | None:
        rule = self.rules.get((kind, code, remark))
        return (
            Verdict(rule.cause, rule.meaning, rule.code if kind == "rarc" else "") if rule else None
        )

    def adjustment(self, group: str, carc: str, remarks: Iterable[str] = ()) -> Verdict:
        """The group decides first (PR is the patient's share); then a remark that refines
        the CARC (CO-16 with M76 is coding); then the CARC alone."""
        found = self._verdict("group", group)
        for remark in remarks:
            found = found or self._verdict("rarc", remark, carc)
        found = found or self._verdict("carc", carc)
        return found or Verdict(Cause.BILLING, NOT_IN_TABLE)

    def claim_status(self, status_code: str) -> Verdict:
        """A 277CA rejection, by its claim status code (STC01-2)."""
        return self._verdict("277ca", status_code) or Verdict(Cause.BILLING, NOT_IN_TABLE)


@cache
def triage_table() -> TriageTable:
    return TriageTable.read()


@dataclass(frozen=True)
class TriagedLine:
    """A service line an adjustment names, with the codes the coder billed on it."""

    line_id: str
    number: int  # 1-based position on the claim
    procedure_code: str = ""
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""


@dataclass(frozen=True)
class Triage:
    """One kind of adjustment or rejection on a claim, with the lines it concerns."""

    source: Literal["835", "277CA", "999"]
    cause: Cause
    code: str  # as people say it: CO-11, CO-16 M76, A7:255, 999 R
    meaning: str
    group: str = ""
    carc: str = ""
    rarcs: tuple[str, ...] = ()
    category: str = ""  # 277CA STC01-1
    status_code: str = ""  # 277CA STC01-2
    lines: tuple[TriagedLine, ...] = ()
    amount: Decimal | None = None  # the sum adjusted (835)


@dataclass
class _Group:
    verdict: Verdict
    adjustment: Adjustment
    rarcs: list[str] = field(default_factory=list)
    lines: list[TriagedLine] = field(default_factory=list)
    amount: Decimal = Decimal(0)


def triage_payment(
    payment: ClaimPayment, claim: Claim | None, table: TriageTable | None = None
) -> list[Triage]:
    """Every adjustment of an 835 claim payment, by cause; the same group and reason on
    several lines is one item naming those lines. A reversal (CLP02 22) has none."""
    if payment.is_reversal:
        return []
    table = table or triage_table()
    groups: dict[tuple[str, str, str, str], _Group] = {}

    def add(adj: Adjustment, remarks: Sequence[str], line: TriagedLine | None) -> None:
        verdict = table.adjustment(adj.group, adj.reason, remarks)
        key = (verdict.cause.value, adj.group, adj.reason, verdict.remark)
        item = groups.setdefault(key, _Group(verdict, adj))
        item.rarcs += [r for r in remarks if r not in item.rarcs]
        item.amount += adj.amount
        if line is not None and line not in item.lines:
            item.lines.append(line)

    for adj in payment.adjustments:
        add(adj, payment.remarks, None)
    for number, paid_line in enumerate(payment.lines, start=1):
        line = _line(paid_line, claim, number)
        for adj in paid_line.adjustments:
            add(adj, [*paid_line.remarks, *payment.remarks], line)
    return [
        Triage(
            source="835",
            cause=g.verdict.cause,
            code=f"{g.adjustment.group}-{g.adjustment.reason}"
            + (f" {g.verdict.remark}" if g.verdict.remark else ""),
            meaning=g.verdict.meaning,
            group=g.adjustment.group,
            carc=g.adjustment.reason,
            rarcs=tuple(g.rarcs),
            lines=tuple(g.lines),
            amount=g.amount,
        )
        for g in groups.values()
    ]


def _line(paid: LinePayment, claim: Claim | None, fallback_number: int) -> TriagedLine:
    lines = claim.lines if claim is not None else ()
    for number, ours in enumerate(lines, start=1):
        if ours.line_id == paid.line_id:
            return TriagedLine(
                ours.line_id, number, ours.procedure_code, ours.modifiers, ours.revenue_code
            )
    return TriagedLine(paid.line_id, fallback_number, paid.procedure, (), paid.revenue_code)


def triage_ack(ack: ClaimAck, table: TriageTable | None = None) -> list[Triage]:
    """A 277CA rejection, by its status code (an acceptance has nothing to triage)."""
    if ack.accepted:
        return []
    verdict = (table or triage_table()).claim_status(ack.status_code)
    return [
        Triage(
            source="277CA",
            cause=verdict.cause,
            code=f"{ack.category}:{ack.status_code}",
            meaning=verdict.meaning,
            category=ack.category,
            status_code=ack.status_code,
        )
    ]


def triage_999() -> list[Triage]:
    """A transaction set the 999 rejected: our file broke the payer's syntax check."""
    meaning = "The payer's syntax check (999) rejected the transaction set the claim was in"
    return [Triage(source="999", cause=Cause.BILLING, code="999 R", meaning=meaning)]


def needs_coder(items: Iterable[Triage]) -> bool:
    return any(t.cause is Cause.CODING for t in items)
