"""Envelope control numbers (ISA13, GS06, ST02) come from a sequence the caller owns."""

from __future__ import annotations

from typing import Protocol


class ControlNumbers(Protocol):
    """A source of control numbers; back it with a database sequence in production.

    Each call returns a new positive integer, never reused for the same trading partner.
    """

    def next_interchange(self) -> int: ...

    def next_group(self) -> int: ...

    def next_transaction(self) -> int: ...


class InMemoryControlNumbers:
    """Counters held in memory: for tests, the corpus and the payer simulator."""

    def __init__(self, interchange: int = 0, group: int = 0, transaction: int = 0) -> None:
        self._interchange = interchange
        self._group = group
        self._transaction = transaction

    def next_interchange(self) -> int:
        self._interchange += 1
        return self._interchange

    def next_group(self) -> int:
        self._group += 1
        return self._group

    def next_transaction(self) -> int:
        self._transaction += 1
        return self._transaction
