"""What the benchmark saw of each encounter on its way from the POST to the payment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.pipeline.stats import Figures, stage_figures, step_figures

PAID = frozenset({"paid", "partially_paid"})
FINAL = PAID | {"denied", "rejected", "held"}

# (label, Journey attribute): the stages, in the order an encounter passes them.
STAGES = (
    ("accepted (intake 202)", "accepted"),
    ("on a worklist", "on_worklist"),
    ("coded (submission 202)", "coded"),
    ("claim built", "built"),
    ("paid", "paid"),
)


@dataclass
class Journey:
    """Wall-clock times (epoch seconds); None until the encounter got there."""

    index: int
    key: str
    posted: float | None = None
    accepted: float | None = None
    intake_id: str | None = None
    on_worklist: float | None = None
    coded: float | None = None
    built: float | None = None
    paid: float | None = None
    claim_id: str | None = None
    outcome: str | None = None  # the claim's final status

    def record_claim(self, view: dict[str, Any]) -> bool:
        """Take the built and paid times from intake's view of the claim; True once final."""
        claim = view["claim"]
        if claim["status"] not in FINAL:
            return False
        self.outcome, self.claim_id = claim["status"], claim["claim_id"]
        for step in claim["history"]:
            at = datetime.fromisoformat(step["at"]).timestamp()
            if step["status"] == "built":
                self.built = at
            elif step["status"] in PAID:
                self.paid = at
        return True


def stage_table(journeys: Sequence[Journey]) -> dict[str, Figures]:
    """Every stage's figures, latency counted from each encounter's POST."""
    sent = [j for j in journeys if j.posted is not None]
    posted = [j.posted for j in sent if j.posted is not None]
    return {
        label: stage_figures(posted, [getattr(j, attribute) for j in sent])
        for label, attribute in STAGES
    }


def accepted_to_worklist(journeys: Sequence[Journey]) -> Figures:
    return step_figures([j.accepted for j in journeys], [j.on_worklist for j in journeys])


def claims_step(journeys: Sequence[Journey]) -> Figures:
    """The claims service alone: from an encounter's code submission to its claim built."""
    return step_figures([j.coded for j in journeys], [j.built for j in journeys])
