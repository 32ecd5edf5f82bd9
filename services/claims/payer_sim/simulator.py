"""A payer in a box: takes an 837, answers a 999, then a 277CA and an 835."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.claims.domain.control import ControlNumbers, InMemoryControlNumbers
from services.claims.domain.pyx12_check import X12Error, validate_x12
from services.claims.domain.segment_index import index_837

from .adjudication import Adjudication
from .inbound import read_837
from .responses import write_277ca, write_835, write_999


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
        self.control = control or InMemoryControlNumbers(interchange=500000)

    def receive(self, x12_837: str, when: datetime) -> PayerResponses:
        inbound = read_837(x12_837)
        index = index_837(x12_837)
        _, errors = validate_x12(x12_837)
        ack = write_999(inbound, errors, self.control, when)
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
        ack277 = write_277ca(inbound, self.adjudication, self.control, when, claims)
        paid = [c for c in claims if c.patient_control_number not in self.adjudication.reject]
        remit = write_835(inbound, self.adjudication, self.control, when, paid) if paid else None
        return PayerResponses(ack, ack277, remit, errors)
