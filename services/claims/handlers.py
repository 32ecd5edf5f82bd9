"""Claims use cases: a coded encounter becomes one claim per encounter version.

The claim is built and checked by the scrubber's rules here, then stored `built` (or `held`);
pyx12 validates it in its payer's batch (see `batching`), where its 837 is written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from services.claims import SERVICE
from services.claims.db import ClaimRow, PayerRow, utc_now
from services.claims.documents import coded_document, patient_control_number
from services.claims.domain import (
    EncounterDocumentError,
    Finding,
    PayerConfig,
    check_claim,
    claim_from_coded_encounter,
    held_claims,
)
from services.claims.domain.model import Claim, ClaimType
from services.claims.repository import ClaimsRepository
from services.claims.status_events import ClaimState, Moves
from shared import tracing
from shared.db import Database
from shared.events.assignment import EncounterCoded
from shared.events.claims import ClaimFinding
from shared.events.envelope import Envelope
from shared.outbox import claim_event
from shared.settings import ChartflowSettings

SENDER_ID = "CHARTFLOW"
VERSION = 1  # the first claim of an encounter; corrected claims are the next versions


@dataclass(frozen=True)
class Correction:
    """How a claim version relates to the one before it (none for version 1)."""

    frequency: str = "1"  # CLM05-3
    original_reference: str = ""  # REF*F8: the payer's number of the claim it replaces
    replaces_claim_id: str | None = None

    @classmethod
    def of(cls, previous: ClaimRow | None) -> Correction:
        """A claim the payer adjudicated (it has the payer's number) is replaced (7); one it
        never took in (rejected, held, not sent) is billed again as an original (1)."""
        if previous is None:
            return cls()
        if previous.payer_claim_id and previous.status != "rejected":
            return cls("7", previous.payer_claim_id, previous.id)
        return cls("1", "", previous.id)

    def describe(self, version: int) -> str:
        if self.frequency == "7":
            return f" (version {version}: replaces payer claim {self.original_reference})"
        return f" (version {version}: a corrected original)" if self.replaces_claim_id else ""


@dataclass
class BuiltClaim:
    document: dict[str, Any] | None
    claim: Claim | None
    findings: list[ClaimFinding] = field(default_factory=list)
    held: bool = True


def _not_built(document: dict[str, Any] | None, rule: str, message: str) -> BuiltClaim:
    return BuiltClaim(document, None, [ClaimFinding(rule=rule, message=message)])


def build_claim(
    coded: EncounterCoded, pcn: str, payer: PayerRow | None, correction: Correction | None = None
) -> BuiltClaim:
    """The claim and the scrubber's rule findings. Never raises: a claim that cannot be
    built is held with a finding that says why (and quotes no value)."""
    correction = correction or Correction()
    try:
        document = coded_document(coded, pcn)
        document["frequency"] = correction.frequency
        if correction.original_reference:
            document["original_reference"] = correction.original_reference
    except Exception as exc:
        return _not_built(
            None,
            "CLAIM_NOT_BUILT",
            f"The coded encounter could not become a claim document ({type(exc).__name__}).",
        )
    return checked_claim(document, payer)


def checked_claim(document: dict[str, Any], payer: PayerRow | None) -> BuiltClaim:
    """The claim of a claim document and the scrubber's rule findings (never raises)."""
    try:
        claim = claim_from_coded_encounter(document)
    except EncounterDocumentError as exc:
        return _not_built(document, "ENCOUNTER_DOCUMENT", str(exc))
    except Exception as exc:
        return _not_built(
            document, "CLAIM_NOT_BUILT", f"The claim could not be built ({type(exc).__name__})."
        )
    if payer is None:
        message = f"Payer {claim.payer.payer_id} is not set up for electronic claims."
        return BuiltClaim(
            document, claim, [ClaimFinding(rule="PAYER_NOT_CONFIGURED", message=message)]
        )
    accepts = frozenset(ClaimType(t) for t in payer.claim_types.split(",") if t)
    try:
        found = check_claim(claim, {payer.payer_id: PayerConfig(payer.payer_id, accepts)})
    except Exception as exc:
        return _not_built(
            document, "CLAIM_NOT_BUILT", f"The claim could not be checked ({type(exc).__name__})."
        )
    return BuiltClaim(document, claim, claim_findings(found), held=bool(held_claims(found)))


def claim_findings(found: Iterable[Finding]) -> list[ClaimFinding]:
    """Findings as the hospital sees them: rule and message (which quote no value)."""
    return [
        ClaimFinding(
            rule=str(f.rule), message=f"{f.line_id + ': ' if f.line_id else ''}{f.message}"
        )
        for f in found
    ]


class ClaimsHandlers:
    def __init__(self, db: Database, settings: ChartflowSettings) -> None:
        self.db = db
        self.settings = settings

    async def on_encounter_coded(self, envelope: Envelope) -> None:
        with tracing.span("claims.build_claim"):
            await self.db.run(lambda s: record_coded(s, self.settings, envelope))


def record_coded(session: Session, settings: ChartflowSettings, envelope: Envelope) -> None:
    """Build, check and store the claim, and announce it, in one transaction (once per
    encounter version: a redelivered event changes nothing)."""
    coded = envelope.payload(EncounterCoded)
    repo = ClaimsRepository(session)
    version = coded.claim_version
    if not claim_event(session, SERVICE, envelope.id) or repo.has_claim(
        coded.encounter_key, version
    ):
        return
    pcn = patient_control_number(coded.encounter_key, version)
    correction = Correction.of(repo.latest_before(coded.encounter_key, version))
    payer = repo.payer(coded.encounter.coverage.payer_id)
    built = build_claim(coded, pcn, payer, correction)
    claim = built.claim
    state = ClaimState(
        id=str(uuid.uuid4()),
        encounter_key=coded.encounter_key,
        hospital_id=coded.hospital_id,
        patient_control_number=pcn,
        claim_type=claim.claim_type.value if claim else "unknown",
        total_charge=str(claim.total_charge if claim else Decimal("0")),
        status="",
        reason="",
        steps=0,
        paid=None,
        remittance=None,
        payer_claim_id=None,
        version=version,
        frequency=correction.frequency,
        replaces_claim_id=correction.replaces_claim_id,
        payer_id=coded.encounter.coverage.payer_id,
    )
    store_claim(session, settings, state, built, correction.describe(version))


def store_claim(
    session: Session, settings: ChartflowSettings, state: ClaimState, built: BuiltClaim, note: str
) -> None:
    """Insert the new claim `built` or `held` and announce it."""
    if built.held:
        status, reason = "held", f"held by the scrubber: {len(built.findings)} finding(s)"
    else:
        claim = built.claim
        kind = "837P" if claim and claim.claim_type is ClaimType.PROFESSIONAL else "837I"
        status, reason = "built", f"{kind} built{note}; the scrubber's rules found no error"
    moves = Moves(settings)
    moves.add(state, status, reason, "scrubber", built.findings)
    session.execute(
        insert(ClaimRow),
        [
            {
                **vars(state),
                "findings": json.dumps([f.model_dump() for f in built.findings]),
                "document": json.dumps(built.document or {}),
                "next_attempt_at": None if built.held else utc_now(),  # ready to send from now
                "created_at": utc_now(),
            }
        ],
    )
    moves.write(session)


__all__ = [
    "SENDER_ID",
    "BuiltClaim",
    "ClaimsHandlers",
    "Correction",
    "build_claim",
    "checked_claim",
    "record_coded",
    "store_claim",
]
