"""The claim's life after it is built, with the reason for every step."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .triage import Triage


class ClaimStatus(StrEnum):
    BUILT = "built"
    HELD = "held"  # scrubber errors; fix and rebuild
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"  # 999: the transaction set passed the clearinghouse/payer syntax check
    REJECTED = "rejected"  # 999 or 277CA rejection; correct and resubmit
    ACKNOWLEDGED = "acknowledged"  # 277CA: the payer took the claim into adjudication
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    SUBMISSION_FAILED = "submission_failed"  # not sent within the retry budget; fix, resubmit
    REVERSED = "reversed"  # 835 CLP02 22: the payer took its payment back
    VOIDED = "voided"  # a void (frequency 8) the payer accepted, and the claim it voided


ALLOWED: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.BUILT: frozenset(
        {ClaimStatus.HELD, ClaimStatus.SUBMITTED, ClaimStatus.SUBMISSION_FAILED}
    ),
    ClaimStatus.SUBMISSION_FAILED: frozenset({ClaimStatus.BUILT}),
    ClaimStatus.HELD: frozenset({ClaimStatus.BUILT}),
    ClaimStatus.SUBMITTED: frozenset({ClaimStatus.ACCEPTED, ClaimStatus.REJECTED}),
    # ... -> voided: a void claim once the payer accepts it, and the claim it voids.
    # Not every payer sends a 277CA: an 835 may follow the 999 directly.
    ClaimStatus.ACCEPTED: frozenset(
        {
            ClaimStatus.ACKNOWLEDGED,
            ClaimStatus.REJECTED,
            ClaimStatus.PAID,
            ClaimStatus.PARTIALLY_PAID,
            ClaimStatus.DENIED,
            ClaimStatus.VOIDED,
        }
    ),
    ClaimStatus.REJECTED: frozenset({ClaimStatus.BUILT}),
    ClaimStatus.ACKNOWLEDGED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED, ClaimStatus.VOIDED}
    ),
    # Final unless the payer reverses its payment (and usually pays again, corrected), or
    # the claim is voided.
    ClaimStatus.PAID: frozenset({ClaimStatus.REVERSED, ClaimStatus.VOIDED}),
    ClaimStatus.PARTIALLY_PAID: frozenset({ClaimStatus.REVERSED, ClaimStatus.VOIDED}),
    ClaimStatus.DENIED: frozenset({ClaimStatus.REVERSED, ClaimStatus.VOIDED}),
    ClaimStatus.REVERSED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED, ClaimStatus.VOIDED}
    ),
    ClaimStatus.VOIDED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, pcn: str, current: ClaimStatus, target: ClaimStatus, reason: str) -> None:
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing (final)"
        super().__init__(
            f"claim {pcn}: cannot go from {current} to {target} ({reason}); "
            f"from {current} it may go to {allowed}"
        )
        self.current = current
        self.target = target


@dataclass(frozen=True)
class Transition:
    source: ClaimStatus
    target: ClaimStatus
    reason: str
    evidence: str = ""  # which document moved it: "999 ST 0001", "277CA", "835 TRN 123"
    triage: tuple[Triage, ...] = ()  # what the answer said, classified (denial triage)


@dataclass
class ClaimLifecycle:
    patient_control_number: str
    status: ClaimStatus = ClaimStatus.BUILT
    history: list[Transition] = field(default_factory=list)

    def move(
        self, target: ClaimStatus, reason: str, evidence: str = "", triage: tuple[Triage, ...] = ()
    ) -> Transition:
        if target not in ALLOWED[self.status]:
            raise IllegalTransition(self.patient_control_number, self.status, target, reason)
        step = Transition(self.status, target, reason, evidence, triage)
        self.history.append(step)
        self.status = target
        return step

    @property
    def reason(self) -> str:
        return self.history[-1].reason if self.history else ""
