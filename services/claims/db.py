"""Claims' tables: payers, claims, the batches they were sent in, the payer's answers.

The SQLModel models here are the schema's truth (migrations follow them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.crypto import EncryptedText


def _now() -> datetime:
    return datetime.now(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class PayerRow(SQLModel, table=True):
    __tablename__ = "payer"

    payer_id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=60)
    claim_types: str  # comma-separated: professional,institutional
    receiver_id: str = Field(max_length=15)
    # Adjudication rules of the simulated payer (services.claims.payer_sim), as JSON.
    simulator: str = "{}"
    # Where the payer takes interchanges over HTTP (the HTTP payer simulator, a
    # clearinghouse); none: the simulator above, in process.
    endpoint: str | None = Field(default=None, max_length=300)


class ClaimRow(SQLModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (
        UniqueConstraint("encounter_key", "version"),
        Index("ix_claim_ready", "status", "next_attempt_at"),  # claims ready to send
    )

    id: str = Field(primary_key=True, max_length=64)
    encounter_key: str = Field(index=True, max_length=140)
    hospital_id: str = Field(index=True, max_length=64)
    version: int = 1
    # CLM05-3: 1 original (also a corrected claim after a rejection), 7 replacement, 8 void
    frequency: str = Field(default="1", max_length=1)
    replaces_claim_id: str | None = Field(default=None, max_length=64)  # the version before
    patient_control_number: str = Field(unique=True, max_length=20)
    claim_type: str = Field(max_length=20)
    payer_id: str = Field(max_length=80)
    total_charge: str
    status: str = Field(max_length=20)
    reason: str
    steps: int = 0  # transitions recorded so far: numbers each announcement
    findings: str  # JSON list
    # The claim alone in its batch's envelope (same ISA13/GS06/ST02); the interchange as
    # sent is ClaimBatch.x12. Empty until the claim is batched. Names, birth dates, ids.
    x12: str = Field(default="", sa_type=EncryptedText)
    interchange_control_number: int = 0  # ISA13 of the batch it was sent in
    # The claim's input document (JSON, PHI), to rebuild the Claim when answers come.
    document: str = Field(sa_type=EncryptedText)
    paid: str | None = None  # sum of the 835's CLP04 for it (a reversal takes it back)
    remittance: str | None = None  # JSON per line id: paid, adjustments (CARC), remarks (RARC)
    payer_claim_id: str | None = Field(default=None, max_length=50)  # 277CA 1K / 835 CLP07
    # The payer's last answer classified (TriageItem JSON list): CARC/RARC, cause, lines.
    triage: str = "[]"
    created_at: datetime = Field(default_factory=_now)
    # Submission: the batch it is in (and its GS06/ST02 there), failed attempts so far, when
    # it may go next, and whether it must go alone (a batch it was in was refused).
    batch_id: str | None = Field(default=None, index=True, max_length=64)
    transaction_set: str = Field(default="", max_length=30)  # "<GS06>/<ST02>"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    alone: bool = False


class ClaimTransition(SQLModel, table=True):
    """Every status a claim went through, with the reason and the document that moved it."""

    __tablename__ = "claim_transition"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: str = Field(index=True, max_length=64)
    source: str = Field(max_length=20)
    target: str = Field(max_length=20)
    reason: str
    evidence: str = ""
    at: datetime = Field(default_factory=_now)


class ClaimBatch(SQLModel, table=True):
    """One interchange to one payer: a submission window's claims, validated and sent once.

    forming -> sending -> answered; or refused (the payer did not take it: its claims go
    again, each alone), failed (delivery never confirmed within the retry budget), empty
    (every claim held), unreadable (answered, but the answers could not be applied).
    """

    __tablename__ = "claim_batch"

    id: str = Field(primary_key=True, max_length=64)
    payer_id: str = Field(index=True, max_length=80)
    status: str = Field(index=True, max_length=20)
    reason: str = ""
    interchange_control_number: int = Field(unique=True)  # ISA13, from the DB counter
    group_control: int  # first GS06 reserved for it
    transaction_control: int  # first ST02 reserved for it
    claim_count: int = 0
    prepared_for: datetime  # the interchange's date and time (ISA09/10, GS04/05)
    x12: str = Field(default="", sa_type=EncryptedText)  # the interchange as sent
    attempts: int = 0  # sends that ended with delivery uncertain
    lease_until: datetime | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=_now)
    sent_at: datetime | None = None
    answered_at: datetime | None = None


class PayerResponse(SQLModel, table=True):
    """The payer's X12 answers, kept as received: once per batch."""

    __tablename__ = "payer_response"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: str | None = Field(default=None, index=True, max_length=64)
    claim_id: str | None = Field(default=None, index=True, max_length=64)  # before batches
    kind: str = Field(max_length=10)  # 999 | 277CA | 835
    x12: str = Field(sa_type=EncryptedText)
    received_at: datetime = Field(default_factory=_now)


class ControlCounter(SQLModel, table=True):
    """ISA13 / GS06 / ST02 sequences: owned here, never random or clock-made."""

    __tablename__ = "control_counter"

    name: str = Field(primary_key=True, max_length=40)
    value: int = 0


class RemittanceRow(SQLModel, table=True):
    """An 835 remittance (check or EFT), applied once: its trace number per payer."""

    __tablename__ = "remittance"

    payer_id: str = Field(primary_key=True, max_length=80)
    trace_number: str = Field(primary_key=True, max_length=50)  # TRN02
    total_paid: str  # BPR02
    claim_payments: int
    provider_adjustment_total: str = "0"  # sum of PLB amounts (withheld when positive)
    batch_id: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(default_factory=_now)


class ProviderAdjustmentRow(SQLModel, table=True):
    """A PLB adjustment: the provider's, not a claim's (recoveries, interest, forwards)."""

    __tablename__ = "provider_adjustment"

    id: int | None = Field(default=None, primary_key=True)
    payer_id: str = Field(index=True, max_length=80)
    trace_number: str = Field(index=True, max_length=50)
    provider_id: str = Field(max_length=50)  # PLB01
    fiscal_period: str = Field(max_length=8)  # PLB02
    reason: str = Field(max_length=2)  # PLB03-1: WO, L6, FB, 72 ...
    reference: str = Field(default="", max_length=50)  # PLB03-2
    amount: str  # positive: withheld from the payment
    received_at: datetime = Field(default_factory=_now)


TABLES = (
    PayerRow,
    ClaimRow,
    ClaimTransition,
    ClaimBatch,
    PayerResponse,
    ControlCounter,
    RemittanceRow,
    ProviderAdjustmentRow,
)
