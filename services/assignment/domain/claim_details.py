"""The claim and its reworks in the Temporal UI's current details (Markdown; no PHI: codes,
ids, statuses and amounts)."""

from __future__ import annotations

from services.assignment.domain.claim_models import ClaimStatusSignal, Rework

FREQUENCY = {"1": "original", "7": "replacement", "8": "void"}


def claim_lines(claim: ClaimStatusSignal | None, reworks: list[Rework]) -> list[str]:
    if claim is None:
        return []
    kind = FREQUENCY.get(claim.frequency, claim.frequency)
    paid = f" · paid {claim.paid}" if claim.paid is not None else ""
    lines = [
        f"**Claim** version {claim.version} ({kind}) `{claim.claim_id[:8]}` · **{claim.status}**"
        f" · payer `{claim.payer_id or '–'}` · charge {claim.total_charge}{paid}"
    ]
    lines += [f"- {issue.cause}-caused: {issue.describe()}" for issue in claim.issues]
    for rework in reworks:
        to = f"coder {rework.coder_id}" if rework.coder_id else "the pool"
        lines.append(
            f"**Rework** of claim version {rework.claim_version} to {to}: "
            + "; ".join(rework.reasons)
        )
    return lines
