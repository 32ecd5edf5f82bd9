"""Writes claims as an X12 005010 interchange: 837P (X222A1) and 837I (X223A2)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .claim_segments import write_claim
from .control import ControlNumbers
from .model import Address, Claim, ClaimType, Patient, Subscriber
from .x12 import DEFAULT_SEPARATORS, SegmentWriter, Separators, d8, hhmm, isa_segment

VERSION = {
    ClaimType.PROFESSIONAL: "005010X222A1",
    ClaimType.INSTITUTIONAL: "005010X223A2",
}
# The implementation guides advise at most 5000 claims per transaction set, and allow 100
# claims (loop 2300) under one subscriber or patient HL: more get another HL for the person.
MAX_CLAIMS_PER_TRANSACTION = 5000
MAX_CLAIMS_PER_HL = 100


@dataclass(frozen=True)
class Submitter:
    name: str = "CHARTFLOW"
    contact: str = "CLAIMS DESK"
    phone: str = "8005550100"


def build_837(
    claims: Sequence[Claim],
    control: ControlNumbers,
    sender_id: str,
    receiver_id: str,
    when: datetime,
    *,
    receiver_name: str = "",
    submitter: Submitter | None = None,
    separators: Separators = DEFAULT_SEPARATORS,
    usage: str = "P",
    max_claims_per_transaction: int = MAX_CLAIMS_PER_TRANSACTION,
) -> str:
    """One interchange holding one functional group per claim type present.

    Within a group each transaction set holds up to ``max_claims_per_transaction`` claims,
    nested billing provider (HL 20) → subscriber (HL 22) → patient (HL 23, when the patient
    is not the subscriber). ``usage`` is ISA15: P production, T test.
    """
    if not claims:
        raise ValueError("build_837 needs at least one claim")
    submitter = submitter or Submitter()
    w = SegmentWriter(separators)
    interchange = control.next_interchange()
    w.add_raw(isa_segment(separators, sender_id, receiver_id, when, interchange, usage))
    groups = 0
    for claim_type in ClaimType:
        of_type = [c for c in claims if c.claim_type is claim_type]
        if not of_type:
            continue
        groups += 1
        group = control.next_group()
        version = VERSION[claim_type]
        w.add("GS", "HC", sender_id, receiver_id, d8(when), hhmm(when), str(group), "X", version)
        batches = [
            of_type[i : i + max_claims_per_transaction]
            for i in range(0, len(of_type), max_claims_per_transaction)
        ]
        for batch in batches:
            _transaction(
                w,
                batch,
                control,
                version,
                when,
                submitter,
                sender_id,
                receiver_id,
                receiver_name or receiver_id,
            )
        w.add("GE", str(len(batches)), str(group))
    w.add("IEA", str(groups), f"{interchange:09d}")
    return w.text()


def _transaction(
    w: SegmentWriter,
    claims: Sequence[Claim],
    control: ControlNumbers,
    version: str,
    when: datetime,
    submitter: Submitter,
    sender_id: str,
    receiver_id: str,
    receiver_name: str,
) -> None:
    st = f"{control.next_transaction():04d}"
    start = len(w)
    w.add("ST", "837", st, version)
    w.add("BHT", "0019", "00", st, d8(when), hhmm(when), "CH")
    w.add("NM1", "41", "2", submitter.name, "", "", "", "", "46", sender_id)
    w.add("PER", "IC", submitter.contact, "TE", submitter.phone)
    w.add("NM1", "40", "2", receiver_name, "", "", "", "", "46", receiver_id)
    hl = 0
    for provider_claims in _grouped(claims, _provider_key):
        hl += 1
        provider_hl = hl
        bp = provider_claims[0].billing_provider
        w.add("HL", str(provider_hl), "", "20", "1")
        w.add("NM1", "85", "2", bp.name, "", "", "", "", "XX", bp.npi)
        _address(w, bp.address)
        w.add("REF", "EI", bp.tax_id.replace("-", ""))
        for subscriber_claims in _grouped(provider_claims, _subscriber_key, MAX_CLAIMS_PER_HL):
            hl += 1
            subscriber_hl = hl
            first = subscriber_claims[0]
            dependents = first.patient is not None
            w.add("HL", str(subscriber_hl), str(provider_hl), "22", "1" if dependents else "0")
            w.add(
                "SBR",
                "P",
                "" if dependents else "18",
                "",
                "",
                "",
                "",
                "",
                "",
                first.payer.filing_indicator,
            )
            _person(w, "IL", first.subscriber, first.subscriber.member_id)
            w.add("NM1", "PR", "2", first.payer.name, "", "", "", "", "PI", first.payer.payer_id)
            if not dependents:
                for claim in subscriber_claims:
                    write_claim(w, claim)
                continue
            for patient_claims in _grouped(subscriber_claims, _patient_key, MAX_CLAIMS_PER_HL):
                hl += 1
                patient = patient_claims[0].patient
                assert patient is not None
                w.add("HL", str(hl), str(subscriber_hl), "23", "0")
                w.add("PAT", patient.relationship)
                _person(w, "QC", patient, "")
                for claim in patient_claims:
                    write_claim(w, claim)
    w.add("SE", str(len(w) - start + 1), st)


def _person(w: SegmentWriter, entity: str, person: Subscriber | Patient, member_id: str) -> None:
    if member_id:
        w.add("NM1", entity, "1", person.last_name, person.first_name, "", "", "", "MI", member_id)
    else:
        w.add("NM1", entity, "1", person.last_name, person.first_name)
    _address(w, person.address)
    w.add("DMG", "D8", d8(person.birth_date), person.sex)


def _address(w: SegmentWriter, address: Address) -> None:
    w.add("N3", address.line1, address.line2)
    w.add("N4", address.city, address.state, address.zip.replace("-", ""))


def _provider_key(c: Claim) -> tuple[str, str]:
    return (c.billing_provider.npi, c.billing_provider.tax_id)


def _subscriber_key(c: Claim) -> tuple[str, str, str, str, str, bool]:
    # Family plans share member ids: the person is the id, name and birth date together.
    s = c.subscriber
    key = (s.member_id, c.payer.payer_id, s.last_name, s.first_name, str(s.birth_date))
    return (*key, c.patient is None)


def _patient_key(c: Claim) -> tuple[str, str, str]:
    p = c.patient_person
    return (p.last_name, p.first_name, d8(p.birth_date))


def _grouped(
    claims: Iterable[Claim], key: Callable[[Claim], Hashable], most: int = 0
) -> list[list[Claim]]:
    """Group claims by key, keeping the order in which each key first appears; with `most`,
    a group holds at most that many claims (the rest start another)."""
    groups: dict[Hashable, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(key(claim), []).append(claim)
    if not most:
        return list(groups.values())
    return [g[i : i + most] for g in groups.values() for i in range(0, len(g), most)]
