"""What the API shows of a claim beyond its row: its 837 as it went to the payer."""

from __future__ import annotations

import json

from sqlmodel import Session

from services.claims.db import ClaimRow
from services.claims.domain import build_837, claim_from_coded_encounter
from services.claims.handlers import SENDER_ID
from services.claims.repository import ClaimsRepository, ReservedControlNumbers


def claim_837(session: Session, row: ClaimRow) -> str:
    """The claim alone in its batch's envelope (its ISA13, GS06, ST02 and date): the bytes
    of its own loops as sent. Empty before the claim is batched."""
    if row.x12 or not row.transaction_set:
        return row.x12  # claims written one per interchange (before batches) keep theirs
    repo = ClaimsRepository(session)
    batch = repo.batch(row.batch_id or "")
    payer = repo.payer(row.payer_id)
    if batch is None or payer is None:
        return ""
    group, _, transaction = row.transaction_set.partition("/")
    numbers = ReservedControlNumbers(row.interchange_control_number, int(group), int(transaction))
    claim = claim_from_coded_encounter(json.loads(row.document))
    return build_837(
        [claim], numbers, SENDER_ID, payer.receiver_id, batch.prepared_for, receiver_name=payer.name
    )
