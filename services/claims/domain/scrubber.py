"""Claim edits before submission: pyx12 over the whole file plus the checks pyx12 lacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .claim_rules import check_claim
from .findings import Finding, PayerConfig, Rule, Severity, held_claims
from .model import Claim
from .pyx12_check import X12Error, validate_x12
from .segment_index import Index837, index_837


def scrub(
    x12_text: str,
    claims: Sequence[Claim],
    payers: Mapping[str, PayerConfig] | None = None,
    *,
    validate: bool = True,
) -> list[Finding]:
    """Every finding for the claims in ``x12_text``; errors hold a claim, warnings do not.

    ``payers`` maps payer id to what that payer accepts; payers not listed accept both
    claim types. ``validate=False`` skips pyx12 (for callers that already ran it).
    """
    findings: list[Finding] = []
    index = index_837(x12_text)
    if validate:
        _, errors = validate_x12(x12_text)
        findings.extend(x12_findings(errors, index))
    in_file = {pcn for t in index.transactions for pcn in t.claims}
    for claim in claims:
        if claim.patient_control_number not in in_file:
            findings.append(
                Finding(
                    Rule.CLAIM_NOT_IN_FILE,
                    "The claim is not in the 837 file that was scrubbed.",
                    claim.patient_control_number,
                )
            )
        findings.extend(check_claim(claim, payers or {}))
    return findings


def x12_findings(errors: Iterable[X12Error], index: Index837) -> list[Finding]:
    findings = []
    for err in errors:
        if err.level in ("interchange", "group", "transaction"):
            claims = [
                pcn
                for t in index.transactions
                if err.level == "interchange"
                or (err.level == "group" and t.group_control == err.group_control)
                or t.transaction_control == err.transaction_control
                for pcn in t.claims
            ]
            rule, line_id = Rule.X12_ENVELOPE, ""
        else:
            owner = index.owner(err.position)
            claims = list(owner.claims) if owner else []
            line_id = owner.line_id if owner else ""
            rule = Rule.X12_ELEMENT if err.level == "element" else Rule.X12_SEGMENT
        where = f"{err.element or err.seg_id} (segment {err.position})".strip()
        # err.message is worded from the X12 error code; err.value (PHI) stays out
        message = f"The file is not valid X12 at {where}: {err.message}"
        for pcn in claims or [""]:
            findings.append(Finding(rule, message, pcn, line_id, segment=err.position))
    return findings


__all__ = [
    "Finding",
    "PayerConfig",
    "Rule",
    "Severity",
    "check_claim",
    "held_claims",
    "scrub",
    "x12_findings",
]
