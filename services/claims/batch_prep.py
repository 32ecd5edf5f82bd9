"""A formed batch's 837: written from its reserved numbers, validated by pyx12 once.

Claims pyx12 finds errors in are held and the file is written again without them (it has
not been sent, so its numbers are still free), then validated again. What is left goes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlmodel import Session

from services.claims.batching import BatchPlan
from services.claims.db import ClaimRow
from services.claims.domain import (
    Claim,
    Finding,
    Index837,
    Rule,
    build_837,
    claim_from_coded_encounter,
    held_claims,
    index_837,
    validate_x12,
)
from services.claims.domain.scrubber import x12_findings
from services.claims.handlers import SENDER_ID, claim_findings
from services.claims.repository import ClaimsRepository, ReservedControlNumbers
from services.claims.settings import ClaimsSettings
from services.claims.status_events import move
from shared.events.claims import ClaimFinding


@dataclass
class PreparedBatch:
    x12: str  # "" when every claim was held
    claims: dict[str, Claim] = field(default_factory=dict)  # sent, by claim id
    transaction_sets: dict[str, str] = field(default_factory=dict)  # pcn -> "GS06/ST02"
    held: dict[str, list[ClaimFinding]] = field(default_factory=dict)  # by claim id


def prepare_batch(plan: BatchPlan) -> PreparedBatch:
    """CPU-bound (pyx12): callers run it off the event loop. Never raises for a claim's
    sake: a claim that cannot be written or validated is held, the others go."""
    out = PreparedBatch("")
    for claim_id, document in plan.claims:
        try:
            out.claims[claim_id] = claim_from_coded_encounter(json.loads(document))
        except Exception as exc:
            message = f"The claim could not be rebuilt for its batch ({type(exc).__name__})."
            out.held[claim_id] = [ClaimFinding(rule="CLAIM_NOT_BUILT", message=message)]
    for _ in range(3):
        if not out.claims:
            return out
        text, index, findings = _write_and_check(plan, list(out.claims.values()))
        held = held_claims(findings)
        if not held and index is not None:
            out.x12 = text
            out.transaction_sets = {
                pcn: f"{t.group_control}/{t.transaction_control}"
                for t in index.transactions
                for pcn in t.claims
            }
            return out
        for claim_id, claim in list(out.claims.items()):
            pcn = claim.patient_control_number
            if "" in held or pcn in held:
                mine = [f for f in findings if f.patient_control_number in ("", pcn)]
                out.held[claim_id] = claim_findings(mine)
                del out.claims[claim_id]
    message = "pyx12 still found errors in the batch once the claims in error were taken out."
    for claim_id in out.claims:
        out.held[claim_id] = [ClaimFinding(rule=str(Rule.X12_ENVELOPE), message=message)]
    out.claims.clear()
    return out


def _write_and_check(
    plan: BatchPlan, claims: list[Claim]
) -> tuple[str, Index837 | None, list[Finding]]:
    numbers = ReservedControlNumbers(plan.interchange, plan.group, plan.transaction)
    try:
        text = build_837(
            claims,
            numbers,
            SENDER_ID,
            plan.payer.receiver_id,
            plan.when,
            receiver_name=plan.payer.name,
        )
    except Exception:
        return "", None, _unwritable(plan, claims)
    _, errors = validate_x12(text)
    index = index_837(text)
    return text, index, x12_findings(errors, index)


def _unwritable(plan: BatchPlan, claims: list[Claim]) -> list[Finding]:
    """The claims the writer fails on, found by writing each one alone."""
    out = []
    for claim in claims:
        try:
            build_837([claim], ReservedControlNumbers(1, 1, 1), SENDER_ID, "R", plan.when)
        except Exception as exc:
            message = f"The 837 writer failed on this claim ({type(exc).__name__})."
            out.append(Finding(Rule.CLAIM_NOT_BUILT, message, claim.patient_control_number))
    return out or [Finding(Rule.CLAIM_NOT_BUILT, "The batch's 837 could not be written.")]


def record_prepared(
    session: Session,
    settings: ClaimsSettings,
    plan: BatchPlan,
    prepared: PreparedBatch,
    now: datetime,
) -> bool:
    """Hold the claims pyx12 found errors in; keep the interchange to send. False when the
    batch is no longer ours to send (another worker took it over)."""
    repo = ClaimsRepository(session)
    batch = repo.batch(plan.batch_id)
    if batch is None or batch.status != "forming":
        return False
    for claim_id, findings in prepared.held.items():
        row = repo.claim(claim_id)
        if row is not None:
            _hold(session, settings, row, findings, batch.interchange_control_number)
    sets = [
        {"b_pcn": pcn, "transaction_set": where} for pcn, where in prepared.transaction_sets.items()
    ]
    if sets:  # one UPDATE run for every claim sent (no PHI column read)
        table = ClaimRow.__table__  # type: ignore[attr-defined]
        query = update(table).where(table.c.patient_control_number == bindparam("b_pcn"))
        session.execute(query, sets)
    batch.x12 = prepared.x12
    batch.claim_count = len(prepared.claims)
    batch.status = "sending" if prepared.x12 else "empty"
    batch.lease_until = now + timedelta(seconds=settings.claims_batch_lease_seconds)
    session.add(batch)
    return bool(prepared.x12)


def _hold(
    session: Session,
    settings: ClaimsSettings,
    row: ClaimRow,
    findings: list[ClaimFinding],
    interchange: int,
) -> None:
    row.batch_id, row.next_attempt_at = None, None
    row.findings = json.dumps([f.model_dump() for f in findings])
    reason = f"held by the scrubber: pyx12 found {len(findings)} error(s) in it"
    move(session, settings, row, "held", reason, f"ISA {interchange:09d}", findings)
