"""Denial rate: of the claims billed from a coder's (or a pool's) codes, how many the payer
denied or rejected for a coding cause (`services/claims/data/denial_triage.csv`).

A claim is billed from codes each time a coding task of theirs is submitted (a first coding
or a rework); a coding-caused denial counts against whoever coded the version the payer
denied, whoever reworks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DenialRate:
    subject: str  # a coder id or a pool id
    billed: int  # claims billed from their codes
    coding_denials: int  # of those, denied or rejected for a coding cause

    @property
    def rate(self) -> float | None:
        """The share denied for coding, 0..1 (None before anything was billed)."""
        return round(self.coding_denials / self.billed, 4) if self.billed else None


def denial_rates(billed: Mapping[str, int], denied: Mapping[str, int]) -> list[DenialRate]:
    """One rate per subject that billed or was denied, by subject id."""
    subjects = sorted(set(billed) | set(denied))
    return [DenialRate(s, billed.get(s, 0), denied.get(s, 0)) for s in subjects]
