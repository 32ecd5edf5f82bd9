"""A round's verdict, from what the hospital, the claims service, the payer and the DLQs say.

- claims: the round's encounters the claims service holds a claim for (an admin's view);
- corrected: claims beyond an encounter's first, each a new version of its claim after a
  coding-caused denial or rejection (a replacement, frequency 7, or a new original);
- duplicates: encounters with two claims for one version (in the claims service or announced
  on claims.status), a version that does not follow the one before, or a claim billed to the
  payer in more than one interchange (the payer's ledger; the same interchange resent, same
  ISA13, is one bill: payers drop it as a duplicate);
- lost: accepted, but no final claim status for the hospital and no claim at all;
- stuck: accepted, with a claim, but no final claim status for the hospital;
- dead-lettered: entries on the namespace's dead-letter topics, read as the admin principal.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.demo.driver import Scenario, claim_settled
from shared.dlq import CONSUMED_TOPICS, DeadLetter, list_entries
from shared.settings import ChartflowSettings
from tests.chaos.observer import PipelineObserver
from tests.stack import Stack


def _ledger(ledger: Path) -> list[dict[str, Any]]:
    if not ledger.exists():
        return []
    return [json.loads(line) for line in ledger.read_text().splitlines()]


def billed_interchanges(ledger: Path) -> dict[str, set[str]]:
    """Patient control number -> the interchanges (ISA13) the payer took it in."""
    billed: dict[str, set[str]] = {}
    for entry in _ledger(ledger):
        for pcn in entry["claims"]:
            billed.setdefault(pcn, set()).add(f"{entry['payer']}:{entry['isa13']}")
    return billed


@dataclass(frozen=True)
class PayerTally:
    """What the payer took: interchanges, the same one again (a batch whose sender crashed
    after sending, resent as is), and one after a later one (a batch whose worker crashed
    before sending, taken over when its lease ran out)."""

    interchanges: int = 0
    resent: int = 0
    late: int = 0

    @classmethod
    def of(cls, ledger: Path) -> PayerTally:
        seen: set[str] = set()
        highest, resent, late = -1, 0, 0
        entries = _ledger(ledger)
        for entry in entries:
            isa13 = entry["isa13"]
            number = int(isa13) if isa13.isdigit() else -1
            if isa13 in seen:
                resent += 1
            elif number < highest:
                late += 1
            seen.add(isa13)
            highest = max(highest, number)
        return cls(len(entries), resent, late)


@dataclass
class Verdict:
    pushed: int
    accepted: int
    claims: int = 0
    corrected: int = 0
    duplicates: int = 0
    lost: int = 0
    stuck: int = 0
    dead_lettered: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # final claim statuses
    unfinished: Counter[str] = field(default_factory=Counter)  # where lost/stuck ones stopped
    dead_letters: list[DeadLetter] = field(default_factory=list)
    payer: PayerTally = field(default_factory=PayerTally)

    def passed(self, expected: int) -> bool:
        return (
            self.claims == expected and self.duplicates == 0 and self.lost == 0 and self.stuck == 0
        )


def final_for_hospital(scenario: Scenario, accepted: dict[str, dict[str, Any]]) -> set[str]:
    """External ids whose claim the hospital sees at a final status."""
    return {
        external_id
        for external_id, answer in accepted.items()
        if claim_settled(scenario.encounter(answer["id"]))
    }


def duplicated(
    claims: list[dict[str, Any]], announced: dict[str, int], billed: dict[str, set[str]]
) -> bool:
    """Two claims for one version of the encounter's claim, a gap in its versions, or one
    claim billed in two interchanges."""
    versions = {c["id"]: int(c.get("version", 1)) for c in claims} | announced
    per_version = Counter(versions.values())
    if any(n > 1 for n in per_version.values()):
        return True
    if sorted(per_version) != list(range(1, len(per_version) + 1)):
        return True
    return any(len(billed.get(c["patient_control_number"], set())) > 1 for c in claims)


async def dead_letters(stack: Stack, prefix: str) -> list[DeadLetter]:
    settings = ChartflowSettings(**stack.kafka_settings("admin"), chartflow_namespace_prefix=prefix)
    return await list_entries(settings, CONSUMED_TOPICS, pending_only=False)


def judge(
    scenario: Scenario,
    pushed: int,
    accepted: dict[str, dict[str, Any]],
    observer: PipelineObserver,
    ledger: Path,
) -> Verdict:
    verdict = Verdict(pushed=pushed, accepted=len(accepted), payer=PayerTally.of(ledger))
    billed = billed_interchanges(ledger)
    for answer in accepted.values():
        key = answer["encounter_key"]
        view = scenario.encounter(answer["id"])
        claims = scenario.claims_for(key)
        verdict.claims += bool(claims)
        verdict.corrected += max(len(claims) - 1, 0)
        if duplicated(claims, observer.claim_ids.get(key, {}), billed):
            verdict.duplicates += 1
        status = view["claim"]["status"]
        if claim_settled(view):
            verdict.outcomes[status] += 1
            continue
        if claims:
            verdict.stuck += 1
            verdict.unfinished[f"claim {claims[0]['status']}"] += 1
        else:
            verdict.lost += 1
            verdict.unfinished[observer.last_stage(key)] += 1
    return verdict
