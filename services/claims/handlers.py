"""Claims use cases: a coded encounter becomes one scrubbed 837 claim per encounter version."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session

from services.claims import SERVICE
from services.claims.db import (
    ClaimRow,
    ClaimsRepository,
    ClaimTransition,
    PayerRow,
    ReservedControlNumbers,
)
from services.claims.domain import (
    EncounterDocumentError,
    PayerConfig,
    build_837,
    claim_from_coded_encounter,
    held_claims,
    scrub,
)
from services.claims.domain.model import Claim, ClaimType
from shared.db import Database
from shared.events import topics
from shared.events.assignment import EncounterCoded
from shared.events.claims import ClaimFinding, ClaimStatusChanged
from shared.events.envelope import Envelope
from shared.events.intake import Person
from shared.outbox import add_to_outbox, claim_event
from shared.settings import ChartflowSettings

SENDER_ID = "CHARTFLOW"
VERSION = 1
RELATIONSHIP_CODES = {"spouse": "01", "child": "19", "other": "G8"}


def patient_control_number(encounter_key: str, version: int) -> str:
    """Deterministic per encounter version, so a redelivered event can never bill twice."""
    digest = hashlib.sha256(f"{encounter_key}#{version}".encode()).hexdigest()
    return f"CF{digest[:16].upper()}"


def _person(person: Person) -> dict[str, Any]:
    return person.model_dump(mode="json", exclude_none=True)


def coded_document(coded: EncounterCoded, pcn: str) -> dict[str, Any]:
    """The claims domain's input document, from the `encounters.coded` event."""
    encounter = coded.encounter
    charges = {c.code: c for c in encounter.charges if c.code}
    coverage = encounter.coverage
    subscriber_person = coverage.subscriber or encounter.patient
    procedures = []
    for proc in coded.procedures:
        charge = charges.get(proc.code)
        line: dict[str, Any] = proc.model_dump()
        if charge is not None:
            # The chargemaster prices `charge.units`; bill the coded units at the same rate.
            price = charge.charge * proc.units / charge.units
            line["charge"] = str(price.quantize(Decimal("0.01"), ROUND_HALF_UP))
            if charge.revenue_code:
                line["revenue_code"] = charge.revenue_code
        elif len(proc.code) == 7:
            line["code_system"] = "ICD-10-PCS"
            line["date"] = encounter.service_date.isoformat()
        else:
            line["charge"] = "0.00"  # Not on the chargemaster: the scrubber holds the claim.
        procedures.append(line)
    if encounter.encounter_class != "professional":
        procedures.extend(
            {"revenue_code": c.revenue_code, "charge": str(c.charge), "units": c.units}
            for c in encounter.charges
            if c.code is None
        )
    doc: dict[str, Any] = {
        "encounter_key": coded.encounter_key,
        "patient_control_number": pcn,
        "claim_type": "professional"
        if encounter.encounter_class == "professional"
        else "institutional",
        "encounter_class": encounter.encounter_class,
        "service_date": encounter.service_date.isoformat(),
        "billing_provider": coded.billing_provider.model_dump(mode="json", exclude_none=True),
        "payer": {"name": coverage.payer_name, "payer_id": coverage.payer_id},
        "subscriber": {**_person(subscriber_person), "member_id": coverage.member_id},
        "place_of_service": encounter.place_of_service,
        "diagnoses": [
            # Coding let a blank POA through only where the code is exempt: "1" says so.
            {"code": d.code, "poa": d.poa or "1"}
            if encounter.encounter_class == "inpatient"
            else d.model_dump(exclude_none=True)
            for d in coded.diagnoses
        ],
        "procedures": procedures,
    }
    if encounter.discharge_date:
        doc["discharge_date"] = encounter.discharge_date.isoformat()
    if coverage.relationship != "self":
        doc["patient"] = {
            **_person(encounter.patient),
            "relationship": RELATIONSHIP_CODES[coverage.relationship],
        }
    if encounter.admission:
        doc["admission"] = encounter.admission.model_dump(exclude_none=True)
    rendering = next((p for p in encounter.providers if p.role in ("rendering", "attending")), None)
    if rendering:
        doc["rendering_npi"] = rendering.npi
    return doc


@dataclass
class BuiltClaim:
    document: dict[str, Any]
    claim: Claim | None
    x12: str
    findings: list[ClaimFinding]
    held: bool


def build_and_scrub(
    document: dict[str, Any],
    payer: PayerRow | None,
    control: ReservedControlNumbers,
    when: datetime,
) -> BuiltClaim:
    """CPU-bound (pyx12): callers run it off the event loop."""
    try:
        claim = claim_from_coded_encounter(document)
    except EncounterDocumentError as exc:
        finding = ClaimFinding(rule="ENCOUNTER_DOCUMENT", message=str(exc))
        return BuiltClaim(document, None, "", [finding], True)
    if payer is None:
        finding = ClaimFinding(
            rule="PAYER_NOT_CONFIGURED",
            message=f"payer {claim.payer.payer_id} is not set up for electronic claims",
        )
        return BuiltClaim(document, claim, "", [finding], True)
    x12 = build_837([claim], control, SENDER_ID, payer.receiver_id, when, receiver_name=payer.name)
    accepts = frozenset(ClaimType(t) for t in payer.claim_types.split(",") if t)
    findings = scrub(x12, [claim], {payer.payer_id: PayerConfig(payer.payer_id, accepts)})
    held = bool(held_claims(findings))
    messages = [
        ClaimFinding(
            rule=str(f.rule), message=f"{f.line_id + ': ' if f.line_id else ''}{f.message}"
        )
        for f in findings
    ]
    return BuiltClaim(document, claim, x12, messages, held)


@dataclass
class Reservation:
    exists: bool
    payer: PayerRow | None
    control: ReservedControlNumbers
    interchange: int


def reserve(session: Session, encounter_key: str, payer_id: str) -> Reservation:
    """Control numbers for one claim's interchange; gaps are harmless, reuse is not."""
    repo = ClaimsRepository(session)
    interchange = repo.next_value("interchange")
    control = ReservedControlNumbers(
        interchange, repo.next_value("group"), repo.next_value("transaction")
    )
    exists = repo.claim_for(encounter_key, VERSION) is not None
    return Reservation(exists, repo.payer(payer_id), control, interchange)


class ClaimsHandlers:
    def __init__(self, db: Database, settings: ChartflowSettings) -> None:
        self.db = db
        self.settings = settings

    async def on_encounter_coded(self, envelope: Envelope) -> None:
        coded = envelope.payload(EncounterCoded)
        pcn = patient_control_number(coded.encounter_key, VERSION)
        payer_id = coded.encounter.coverage.payer_id
        reservation = await self.db.run(lambda s: reserve(s, coded.encounter_key, payer_id))
        if reservation.exists:
            return
        document = coded_document(coded, pcn)
        built = await asyncio.to_thread(
            build_and_scrub, document, reservation.payer, reservation.control, datetime.now(UTC)
        )
        await self.db.run(
            lambda s: record_claim(
                s, self.settings, envelope, coded, pcn, built, reservation.interchange
            )
        )


def record_claim(
    session: Session,
    settings: ChartflowSettings,
    envelope: Envelope,
    coded: EncounterCoded,
    pcn: str,
    built: BuiltClaim,
    interchange: int,
) -> None:
    """Store the claim and announce its status in one transaction (once per encounter version)."""
    repo = ClaimsRepository(session)
    if not claim_event(session, SERVICE, envelope.id) or repo.claim_for(
        coded.encounter_key, VERSION
    ):
        return
    claim = built.claim
    status = "held" if built.held else "built"
    if built.held:
        reason = f"held by the scrubber: {len(built.findings)} finding(s)"
    else:
        kind = "837P" if claim and claim.claim_type is ClaimType.PROFESSIONAL else "837I"
        reason = f"{kind} built and validated by pyx12 with no errors"
    total = claim.total_charge if claim else Decimal("0")
    row = ClaimRow(
        id=str(uuid.uuid4()),
        encounter_key=coded.encounter_key,
        hospital_id=coded.hospital_id,
        version=VERSION,
        patient_control_number=pcn,
        claim_type=claim.claim_type.value if claim else "unknown",
        payer_id=coded.encounter.coverage.payer_id,
        total_charge=str(total),
        status=status,
        reason=reason,
        findings=json.dumps([f.model_dump() for f in built.findings]),
        x12=built.x12,
        interchange_control_number=interchange,
        document=json.dumps(built.document),
    )
    repo.add(row)
    repo.add(ClaimTransition(claim_id=row.id, source="", target=status, reason=reason))
    announce(session, settings, row, step=0, findings=built.findings)


def announce(
    session: Session,
    settings: ChartflowSettings,
    row: ClaimRow,
    step: int,
    findings: list[ClaimFinding] | None = None,
) -> None:
    """Tell the hospital (through intake) where the claim stands now."""
    change = ClaimStatusChanged(
        encounter_key=row.encounter_key,
        claim_id=row.id,
        patient_control_number=row.patient_control_number,
        claim_type=row.claim_type,
        status=row.status,
        total_charge=Decimal(row.total_charge),
        reason=row.reason,
        findings=findings or [],
        paid=Decimal(row.paid) if row.paid is not None else None,
    )
    add_to_outbox(
        session,
        settings.topic(topics.CLAIMS_STATUS),
        Envelope.wrap(
            change,
            source=SERVICE,
            subject=row.encounter_key,
            tenant=row.hospital_id,
            id=f"claim-{row.patient_control_number}-{step}-{row.status}",
        ),
    )
