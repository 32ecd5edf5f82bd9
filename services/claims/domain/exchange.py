"""A batch's round trip with its payer: send one 837, read its 999, 277CA and 835 once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from .model import Claim
from .readers import ClaimAck, read_277ca, read_999
from .remittance import Remittance, read_835
from .segment_index import index_837
from .status import ClaimLifecycle
from .tracking import (
    ClaimOutcome,
    apply_277ca,
    apply_835,
    apply_999,
    apply_voids,
    mark_submitted,
)


class PayerAnswers(Protocol):
    ack_999: str
    ack_277ca: str | None
    remit_835: str | None


class PayerRefused(Exception):
    """The payer certainly did not take the interchange: its claims may go in another.

    Any other exception from `PayerAdapter.receive` leaves delivery uncertain; the same
    interchange (same ISA13) is then sent again, which a payer drops if it had it already.
    """


class PayerAdapter(Protocol):
    """Sends an interchange to a payer (or clearinghouse) and returns what it answered."""

    def receive(self, x12_837: str, when: datetime) -> PayerAnswers: ...


@dataclass
class BatchAnswers:
    """Each claim's lifecycle through the answers, and what the answers said beyond status."""

    lifecycles: dict[str, ClaimLifecycle]
    outcomes: list[ClaimOutcome] = field(default_factory=list)
    acks: list[ClaimAck] = field(default_factory=list)
    remittances: list[Remittance] = field(default_factory=list)


def read_answers(
    claims: Mapping[str, Claim],
    x12_837: str,
    answers: PayerAnswers,
    sent: str = "sent to the payer",
) -> BatchAnswers:
    """Every status each claim of the interchange went through, with reasons. `claims`
    holds at least the claims in the interchange (their lines are matched to the 835's).

    The 999 moves the claims of each transaction set it names (a rejected set moves exactly
    its claims); the 277CA and 835 move the claims they name, one by one.
    """
    index = index_837(x12_837)
    lives = {pcn: ClaimLifecycle(pcn) for t in index.transactions for pcn in t.claims}
    interchange = x12_837[90:99] if x12_837.startswith("ISA") else "?"
    mark_submitted(lives, index, f"ISA {interchange}", sent)
    apply_999(lives, read_999(answers.ack_999), index)
    out = BatchAnswers(lives)
    if answers.ack_277ca:
        out.acks = read_277ca(answers.ack_277ca)
        apply_277ca(lives, out.acks)
        apply_voids(lives, out.acks, claims)
    if answers.remit_835:
        out.remittances = read_835(answers.remit_835)
        out.outcomes = apply_835(lives, out.remittances, claims)
    return out
