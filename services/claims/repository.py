"""Claims' queries: one repository over a session, and control numbers reserved from it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, SQLModel, col, select

from services.claims.db import ClaimBatch, ClaimRow, ClaimTransition, ControlCounter, PayerRow


class ClaimsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def payer(self, payer_id: str) -> PayerRow | None:
        return self.session.get(PayerRow, payer_id)

    def claim_for(self, encounter_key: str, version: int) -> ClaimRow | None:
        query = select(ClaimRow).where(
            ClaimRow.encounter_key == encounter_key, ClaimRow.version == version
        )
        return self.session.exec(query).first()

    def has_claim(self, encounter_key: str, version: int) -> bool:
        query = select(ClaimRow.id).where(
            ClaimRow.encounter_key == encounter_key, ClaimRow.version == version
        )
        return self.session.exec(query).first() is not None

    def latest_before(self, encounter_key: str, version: int) -> ClaimRow | None:
        """The encounter's newest claim version below `version`."""
        query = select(ClaimRow).where(
            ClaimRow.encounter_key == encounter_key, col(ClaimRow.version) < version
        )
        return self.session.exec(query.order_by(col(ClaimRow.version).desc())).first()

    def claims_for(self, encounter_key: str) -> list[ClaimRow]:
        query = select(ClaimRow).where(ClaimRow.encounter_key == encounter_key)
        return list(self.session.exec(query.order_by(col(ClaimRow.version))))

    def claims_in_status(self, status: str, limit: int) -> list[ClaimRow]:
        query = select(ClaimRow).where(ClaimRow.status == status)
        return list(self.session.exec(query.order_by(col(ClaimRow.created_at)).limit(limit)))

    def claims_by_pcn(self, pcns: list[str]) -> list[ClaimRow]:
        query = select(ClaimRow).where(col(ClaimRow.patient_control_number).in_(pcns))
        return list(self.session.exec(query))

    def ready_to_send(self, now: datetime, limit: int) -> list[ClaimRow]:
        """Built claims in no batch whose next attempt is due, oldest first."""
        query = select(ClaimRow).where(
            ClaimRow.status == "built",
            col(ClaimRow.batch_id).is_(None),
            col(ClaimRow.next_attempt_at) <= now,
        )
        # skip_locked: two workers never batch the same claim (PostgreSQL; SQLite has one writer)
        query = query.order_by(col(ClaimRow.next_attempt_at)).limit(limit)
        return list(self.session.exec(query.with_for_update(skip_locked=True)))

    def in_batch(self, batch_id: str) -> list[ClaimRow]:
        query = select(ClaimRow).where(ClaimRow.batch_id == batch_id)
        return list(self.session.exec(query.order_by(col(ClaimRow.created_at))))

    def batch(self, batch_id: str) -> ClaimBatch | None:
        return self.session.get(ClaimBatch, batch_id)

    def sending_batch(self, batch_id: str) -> ClaimBatch | None:
        """The batch, if it is still being sent (else another worker recorded its end)."""
        batch = self.batch(batch_id)
        return batch if batch is not None and batch.status == "sending" else None

    def stalled_batches(self, now: datetime) -> list[ClaimBatch]:
        """Batches being prepared or sent whose worker's lease ran out (it crashed)."""
        query = select(ClaimBatch).where(
            col(ClaimBatch.status).in_(("forming", "sending")),
            col(ClaimBatch.lease_until) <= now,
        )
        query = query.order_by(col(ClaimBatch.created_at)).with_for_update(skip_locked=True)
        return list(self.session.exec(query))

    def transitions(self, claim_id: str) -> list[ClaimTransition]:
        query = select(ClaimTransition).where(ClaimTransition.claim_id == claim_id)
        return list(self.session.exec(query.order_by(col(ClaimTransition.id))))

    def claim(self, claim_id: str) -> ClaimRow | None:
        return self.session.get(ClaimRow, claim_id)

    def next_value(self, name: str, count: int = 1) -> int:
        """Reserve `count` numbers of the named sequence; returns the first."""
        row = self.session.exec(
            select(ControlCounter).where(ControlCounter.name == name).with_for_update()
        ).first()
        if row is None:
            row = ControlCounter(name=name, value=0)
        first = row.value + 1
        row.value += count
        self.add(row)
        self.session.flush()
        return first


class ReservedControlNumbers:
    """A block of control numbers reserved from the database, handed to the 837 writer."""

    def __init__(self, interchange: int, group: int, transaction: int) -> None:
        self._next = {"interchange": interchange, "group": group, "transaction": transaction}

    def _take(self, name: str) -> int:
        value = self._next[name]
        self._next[name] += 1
        return value

    def next_interchange(self) -> int:
        return self._take("interchange")

    def next_group(self) -> int:
        return self._take("group")

    def next_transaction(self) -> int:
        return self._take("transaction")
