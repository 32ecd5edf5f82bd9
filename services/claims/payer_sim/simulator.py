"""A payer in a box: takes an 837, answers a 999, then a 277CA and an 835."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.claims.domain.control import ControlNumbers, InMemoryControlNumbers
from services.claims.domain.pyx12_check import X12Error, validate_x12
from services.claims.domain.segment_index import Index837, index_837

from .adjudication import Adjudication
from .inbound import Inbound837, InboundClaim, read_837
from .responses import VOID, write_277ca, write_835, write_999


@dataclass
class PayerResponses:
    ack_999: str
    ack_277ca: str | None  # None when the 999 rejected every transaction set
    remit_835: str | None  # None when no claim was accepted into adjudication
    x12_errors: list[X12Error] = field(default_factory=list)


class PayerSimulator:
    def __init__(
        self,
        adjudication: Adjudication | None = None,
        control: ControlNumbers | None = None,
    ) -> None:
        self.adjudication = adjudication or Adjudication()
        self.control = control

    def _numbers(self, x12_837: str) -> ControlNumbers:
        if self.control is not None:
            return self.control
        # The payer's own numbers, three per 837 received, derived from its ISA13: a resent
        # interchange gets the same answers, and 835 traces (TRN02) stay unique per 837.
        isa13 = x12_837[90:99] if x12_837.startswith("ISA") else "0"
        base = (int(isa13) if isa13.isdigit() else 0) * 3 % 999_999_000
        return InMemoryControlNumbers(base, base, base)

    def receive(self, x12_837: str, when: datetime) -> PayerResponses:
        inbound = read_837(x12_837)
        index = index_837(x12_837)
        _, errors = validate_x12(x12_837)
        refused = {
            (g, st)
            for g, st, _ in inbound.transactions
            if any(self.adjudication.rejects_set(c) for c in _claims_in(inbound, index, g, st))
        }
        if refused:
            errors = errors + [
                X12Error(
                    "transaction",
                    "5",
                    "rejected by the payer",
                    0,
                    "ST",
                    group_control=g,
                    transaction_control=st,
                )
                for g, st in sorted(refused)
            ]
        control = self._numbers(x12_837)
        ack = write_999(inbound, errors, control, when)
        if any(e.level in ("interchange", "group") for e in errors):
            return PayerResponses(ack, None, None, errors)
        rejected_sets = {(e.group_control, e.transaction_control) for e in errors}
        accepted_pcns: set[str] = set()
        for group, st, _ in inbound.transactions:
            if (group, st) not in rejected_sets:
                accepted_pcns |= set(index.claims_in(group, st))
        claims = [c for c in inbound.claims if c.patient_control_number in accepted_pcns]
        if not claims:
            return PayerResponses(ack, None, None, errors)
        ack277 = write_277ca(inbound, self.adjudication, control, when, claims)
        # a void (frequency 8) is acknowledged; its payment comes back in a later 835
        paid = [c for c in claims if self.adjudication.rejection(c) is None and c.frequency != VOID]
        remit = write_835(inbound, self.adjudication, control, when, paid) if paid else None
        return PayerResponses(ack, ack277, remit, errors)


def _claims_in(inbound: Inbound837, index: Index837, group: str, st: str) -> list[InboundClaim]:
    pcns = set(index.claims_in(group, st))
    return [c for c in inbound.claims if c.patient_control_number in pcns]
