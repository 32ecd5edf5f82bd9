"""Who audits: an auditor who holds a credential the encounter needs and is not its coder,
of the coder's vendor, or of another vendor first when the hospital's contract says so."""

from __future__ import annotations

from sqlmodel import Session, select

from services.coding.audit_db import Audit, AuditRepository
from services.coding.db import Coder


def choose_auditor(session: Session, audit: Audit) -> Coder | None:
    """The least-loaded eligible auditor, or None (the audit waits for one to register).

    Without the contract's preference only the coder's own vendor audits: another vendor may
    read the chart only where the hospital agreed to it.
    """
    needed = set(audit.credentials.split(","))
    auditors = [
        a
        for a in session.exec(select(Coder).where(Coder.role == "auditor"))
        if a.id != audit.coder_id
        and needed & set(a.credentials.split(","))
        and (audit.prefer_other_vendor or a.vendor_id == audit.vendor_id)
    ]
    if not auditors:
        return None
    load = AuditRepository(session).open_counts()

    def rank(auditor: Coder) -> tuple[bool, int, str]:
        # False sorts first: another vendor when the contract prefers one, else the same.
        same_vendor = auditor.vendor_id == audit.vendor_id
        preferred = not same_vendor if audit.prefer_other_vendor else same_vendor
        return (not preferred, load.get(auditor.id, 0), auditor.id)

    return min(auditors, key=rank)


def assign(session: Session, audit: Audit) -> None:
    auditor = choose_auditor(session, audit)
    if auditor is not None:
        audit.auditor_id, audit.auditor_vendor_id = auditor.id, auditor.vendor_id
        audit.status = "recoding"
    session.add(audit)
    session.flush()


def assign_waiting_audits(session: Session) -> None:
    """Audits that arrived while nobody could take them go to the auditors now."""
    for audit in AuditRepository(session).unassigned():
        assign(session, audit)
