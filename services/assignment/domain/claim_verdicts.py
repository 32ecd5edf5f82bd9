"""Which claim statuses end the encounter's workflow, and which send it back to its coder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.assignment.domain.claim_models import ClaimStatusSignal

#: The payer decided, or the claim cannot move without people: the workflow ends here unless
#: the cause is coding (then a corrected claim follows). `reversed` is not final: a corrected
#: payment usually follows it.
FINAL = frozenset(
    {"paid", "partially_paid", "denied", "rejected", "held", "submission_failed", "voided"}
)
#: Statuses whose coding-caused issues a coder can correct (a held claim is our scrubber's).
CORRECTABLE = frozenset({"paid", "partially_paid", "denied", "rejected"})


def is_passed_by(older: Mapping[str, Any], newer: Mapping[str, Any]) -> bool:
    """A claim status event (its plaintext fields) the workflow need not see: a later step of
    the same claim is already in hand and this one decides nothing (it is not final)."""
    return (
        older.get("claim_id") == newer.get("claim_id")
        and older.get("status") not in FINAL
        and int(newer.get("step", 0)) > int(older.get("step", 0))
    )


def is_final(claim: ClaimStatusSignal) -> bool:
    return claim.status in FINAL


def needs_rework(claim: ClaimStatusSignal) -> bool:
    """The payer denied or rejected (part of) the claim for a coding cause."""
    return claim.status in CORRECTABLE and any(i.cause == "coding" for i in claim.issues)


def denial_cause(claim: ClaimStatusSignal) -> str:
    """What the payer's issues with the claim were caused by, for ops: e.g. "coding",
    "billing,payer" (a contractual reduction is "payer"), or "none"."""
    return ",".join(sorted({i.cause for i in claim.issues})) or "none"
