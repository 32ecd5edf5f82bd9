"""Moves claims through their statuses from scrubber findings and the payer's answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .model import Claim
from .readers import Ack999, ClaimAck
from .remittance import ClaimPayment, LinePayment, Remittance
from .scrubber import Finding, Severity
from .segment_index import Index837
from .status import ClaimLifecycle, ClaimStatus, Transition
from .triage import triage_999, triage_ack, triage_payment

VOID = "8"  # CLM05-3: void or cancel a prior claim

Lifecycles = MutableMapping[str, ClaimLifecycle]


class UnknownClaim(KeyError):
    """A response names a claim (or line) we did not send."""


def apply_findings(lifecycles: Lifecycles, findings: Iterable[Finding]) -> list[Transition]:
    """Hold every built claim with an error finding; the rest are ready to submit."""
    errors: dict[str, list[str]] = {}
    file_errors: list[str] = []
    for f in findings:
        if f.severity is Severity.ERROR:
            if f.patient_control_number:
                errors.setdefault(f.patient_control_number, []).append(f"{f.rule}: {f.message}")
            else:
                file_errors.append(f"{f.rule}: {f.message}")
    moved = []
    for pcn, life in lifecycles.items():
        reasons = errors.get(pcn, []) + file_errors
        if life.status is ClaimStatus.BUILT and reasons:
            moved.append(life.move(ClaimStatus.HELD, "; ".join(reasons), "scrubber"))
    return moved


def mark_submitted(
    lifecycles: Lifecycles, index: Index837, evidence: str, reason: str = "sent to the payer"
) -> list[Transition]:
    return [
        lifecycles[pcn].move(ClaimStatus.SUBMITTED, reason, evidence)
        for t in index.transactions
        for pcn in t.claims
    ]


def apply_999(lifecycles: Lifecycles, acks: Sequence[Ack999], index: Index837) -> list[Transition]:
    moved = []
    for ack in acks:
        for t in ack.transactions:
            pcns = index.claims_in(t.group_control, t.transaction_control)
            if not pcns:
                raise UnknownClaim(
                    f"999 answers transaction set {t.transaction_control} of group "
                    f"{t.group_control}, which is not in the submitted file"
                )
            evidence = f"999 GS {t.group_control} ST {t.transaction_control}"
            if t.accepted:
                target, reason = ClaimStatus.ACCEPTED, f"999 {t.code}: transaction set accepted"
            else:
                errors = [
                    f"{e.seg_id} at position {e.position} (loop {e.loop_id}) error {e.code}"
                    + (f", element {e.element} error {e.element_code}" if e.element else "")
                    for e in t.segment_errors
                ]
                detail = "; ".join(errors + [f"set error {c}" for c in t.set_errors])
                target, reason = ClaimStatus.REJECTED, f"999 {t.code}: rejected: {detail}"
            triage = tuple(triage_999()) if target is ClaimStatus.REJECTED else ()
            for pcn in pcns:
                moved.append(_life(lifecycles, pcn).move(target, reason, evidence, triage))
    return moved


def apply_277ca(lifecycles: Lifecycles, acks: Sequence[ClaimAck]) -> list[Transition]:
    moved = []
    for ack in acks:
        code = f"{ack.category}:{ack.status_code}" + (f":{ack.entity}" if ack.entity else "")
        if ack.accepted:
            target = ClaimStatus.ACKNOWLEDGED
            reason = f"277CA {code}: accepted into adjudication"
            if ack.payer_claim_id:
                reason += f" as payer claim {ack.payer_claim_id}"
        else:
            target = ClaimStatus.REJECTED
            reason = f"277CA {code}: rejected" + (f": {ack.free_text}" if ack.free_text else "")
        life = _life(lifecycles, ack.patient_control_number)
        moved.append(life.move(target, reason, "277CA", tuple(triage_ack(ack))))
    return moved


def apply_voids(
    lifecycles: Lifecycles, acks: Sequence[ClaimAck], claims: Mapping[str, Claim]
) -> list[Transition]:
    """A void (frequency 8) the 277CA accepted is done: the payer takes back what it paid
    for the claim it names (REF*F8) in a later 835."""
    moved = []
    for ack in acks:
        claim = claims.get(ack.patient_control_number)
        if ack.accepted and claim is not None and claim.frequency == VOID:
            reason = f"the payer accepted the void of its claim {claim.original_reference}"
            moved.append(
                _life(lifecycles, ack.patient_control_number).move(
                    ClaimStatus.VOIDED, reason, "277CA"
                )
            )
    return moved


@dataclass
class ClaimOutcome:
    patient_control_number: str
    status: ClaimStatus
    paid: Decimal
    payment: ClaimPayment
    lines: dict[str, LinePayment] = field(default_factory=dict)  # by line item control number


def apply_835(
    lifecycles: Lifecycles, remits: Sequence[Remittance], claims: Mapping[str, Claim]
) -> list[ClaimOutcome]:
    """Match each paid claim and line to ours by patient control and line item control number.

    Everything is matched before any claim moves, so an 835 naming a claim or line we never
    sent changes nothing (and can be fixed and read again).
    """
    matched: list[tuple[Remittance, ClaimPayment, dict[str, LinePayment]]] = []
    for remit in remits:
        for payment in remit.claims:
            pcn = payment.patient_control_number
            claim = claims.get(pcn)
            if claim is None:
                raise UnknownClaim(
                    f"835 {remit.trace_number} pays claim {pcn}, which we never sent"
                )
            _life(lifecycles, pcn)
            lines = {}
            for ln in payment.lines:
                if claim.line(ln.line_id) is None:
                    raise UnknownClaim(
                        f"835 {remit.trace_number} pays line {ln.line_id!r} of claim {pcn}, "
                        "which is not on the claim"
                    )
                lines[ln.line_id] = ln
            matched.append((remit, payment, lines))
    outcomes = []
    for remit, payment, lines in matched:
        pcn = payment.patient_control_number
        status, reason = _outcome(payment)
        triage = tuple(triage_payment(payment, claims.get(pcn)))
        lifecycles[pcn].move(status, reason, f"835 TRN {remit.trace_number}", triage)
        outcomes.append(ClaimOutcome(pcn, status, payment.paid, payment, lines))
    return outcomes


def _outcome(payment: ClaimPayment) -> tuple[ClaimStatus, str]:
    carcs = sorted(
        {
            f"{a.group}-{a.reason}"
            for a in [*payment.adjustments, *(a for ln in payment.lines for a in ln.adjustments)]
        }
    )
    adjusted = f" (adjustments {', '.join(carcs)})" if carcs else ""
    if payment.is_reversal:
        return ClaimStatus.REVERSED, f"835 CLP02 22: payment of {-payment.paid:.2f} reversed"
    denied_lines = [
        ln
        for ln in payment.lines
        if ln.paid == 0 and not any(a.group == "PR" for a in ln.adjustments)
    ]
    if payment.status_code == "4" or (payment.paid == 0 and payment.patient_responsibility == 0):
        return ClaimStatus.DENIED, f"835 CLP02 {payment.status_code}: denied{adjusted}"
    if denied_lines:
        ids = ", ".join(ln.line_id for ln in denied_lines)
        return (
            ClaimStatus.PARTIALLY_PAID,
            f"835: paid {payment.paid:.2f} of {payment.charge:.2f}; lines {ids} denied{adjusted}",
        )
    return ClaimStatus.PAID, f"835: paid {payment.paid:.2f} of {payment.charge:.2f}{adjusted}"


def _life(lifecycles: Lifecycles, pcn: str) -> ClaimLifecycle:
    try:
        return lifecycles[pcn]
    except KeyError:
        raise UnknownClaim(f"a response names claim {pcn}, which we are not tracking") from None
