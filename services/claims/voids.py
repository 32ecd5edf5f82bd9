"""An admin voids a claim: a new version of it, frequency 8, names the payer's claim (REF*F8).

It is batched, validated and sent like any claim; when the payer accepts the void (277CA),
the void and the claim it voids are both `voided`.
"""

from __future__ import annotations

import json
import uuid

from sqlmodel import Session

from services.claims.db import ClaimRow
from services.claims.documents import patient_control_number
from services.claims.handlers import checked_claim, store_claim
from services.claims.repository import ClaimsRepository
from services.claims.status_events import ClaimState, move
from shared.settings import ChartflowSettings

VOID = "8"
#: A claim the payer adjudicated (or took into adjudication) and holds a number for.
VOIDABLE = frozenset({"acknowledged", "paid", "partially_paid", "denied", "reversed"})


class ClaimNotFound(LookupError):
    pass


class NotVoidable(ValueError):
    """The claim cannot be voided; the message says why (no PHI)."""


def void_claim(session: Session, settings: ChartflowSettings, claim_id: str) -> ClaimRow:
    """Store and announce the void of the encounter's newest claim version."""
    repo = ClaimsRepository(session)
    row = repo.claim(claim_id)
    if row is None:
        raise ClaimNotFound(claim_id)
    newest = repo.claims_for(row.encounter_key)[-1]
    if newest.id != row.id:
        raise NotVoidable(
            f"claim {claim_id} is version {row.version}; version {newest.version} is the "
            "encounter's newest: void that one"
        )
    if row.status not in VOIDABLE or not row.payer_claim_id:
        raise NotVoidable(
            f"claim {claim_id} is {row.status}: only a claim the payer took in and numbered "
            f"({', '.join(sorted(VOIDABLE))}) can be voided"
        )
    version = row.version + 1
    pcn = patient_control_number(row.encounter_key, version)
    document = {
        **json.loads(row.document),
        "patient_control_number": pcn,
        "frequency": VOID,
        "original_reference": row.payer_claim_id,
    }
    built = checked_claim(document, repo.payer(row.payer_id))
    state = ClaimState(
        id=str(uuid.uuid4()),
        encounter_key=row.encounter_key,
        hospital_id=row.hospital_id,
        patient_control_number=pcn,
        claim_type=row.claim_type,
        total_charge=row.total_charge,
        status="",
        reason="",
        steps=0,
        paid=None,
        remittance=None,
        payer_claim_id=None,
        version=version,
        frequency=VOID,
        replaces_claim_id=row.id,
        payer_id=row.payer_id,
    )
    note = f" (version {version}: voids payer claim {row.payer_claim_id})"
    store_claim(session, settings, state, built, note)
    session.flush()
    created = repo.claim(state.id)
    assert created is not None
    return created


def void_accepted(
    session: Session, settings: ChartflowSettings, void: ClaimState | ClaimRow
) -> None:
    """The payer accepted the void: the claim it names is voided too."""
    original = ClaimsRepository(session).claim(void.replaces_claim_id or "")
    if original is None or original.status == "voided":
        return
    reason = f"voided by claim version {void.version} (the payer accepted the void)"
    move(session, settings, original, "voided", reason, "277CA")
