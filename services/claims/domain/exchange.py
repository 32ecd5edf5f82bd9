"""One claim's round trip with its payer: submit the 837, read 999, 277CA and 835 back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .model import Claim
from .readers import read_277ca, read_835, read_999
from .segment_index import index_837
from .status import ClaimLifecycle, Transition
from .tracking import ClaimOutcome, apply_277ca, apply_835, apply_999, mark_submitted


class PayerAnswers(Protocol):
    ack_999: str
    ack_277ca: str | None
    remit_835: str | None


class PayerAdapter(Protocol):
    """Sends an interchange to a payer (or clearinghouse) and returns what it answered."""

    def receive(self, x12_837: str, when: datetime) -> PayerAnswers: ...


@dataclass
class Exchange:
    transitions: list[Transition]
    outcome: ClaimOutcome | None
    answers: PayerAnswers


def submit_claim(claim: Claim, x12_837: str, payer: PayerAdapter, when: datetime) -> Exchange:
    """Every status the claim moves through, with reasons, once the payer's answers are read."""
    pcn = claim.patient_control_number
    lives = {pcn: ClaimLifecycle(pcn)}
    index = index_837(x12_837)
    interchange = x12_837[90:99] if x12_837.startswith("ISA") else "?"
    mark_submitted(lives, index, f"ISA {interchange}")
    answers = payer.receive(x12_837, when)
    apply_999(lives, read_999(answers.ack_999), index)
    if answers.ack_277ca:
        apply_277ca(lives, read_277ca(answers.ack_277ca))
    outcome = None
    if answers.remit_835:
        outcomes = apply_835(lives, read_835(answers.remit_835), {pcn: claim})
        outcome = outcomes[0] if outcomes else None
    return Exchange(lives[pcn].history, outcome, answers)
