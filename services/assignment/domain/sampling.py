"""QA sampling: which coded encounters an auditor re-codes before the claim goes out.

A policy belongs to a vendor pool, and a hospital's contract with the pool may replace it; a
pool without one is not sampled. The rules, first match wins, each recorded as the reason:

1. `new_coder`: the coder has fewer than `new_coder_audits` completed audits;
2. `below_target`: their accuracy over their last `new_coder_audits` audits is under
   `target_accuracy` (so a new coder stays fully audited until N audits at the target, and an
   established coder who slips is audited again);
3. `inpatient`: every inpatient encounter, when the policy says so;
4. `charges_above`: the encounter's charges exceed the policy's amount;
5. `code_range`: a submitted code falls in one of the policy's ranges;
6. `random`: a draw under `random_percent`.

The draw is a hash of the encounter key and the task id, so the decision is the same on every
replay of the workflow and anyone can recompute it. Pure functions: the workflow decides,
an activity gathers the facts.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from shared.code_ranges import parse_code_range

Rule = Literal["new_coder", "below_target", "inpatient", "charges_above", "code_range", "random"]
CodeRangeSpec = Annotated[str, Field(pattern=r"^[A-Za-z0-9.]{1,8}(-[A-Za-z0-9.]{1,8})?$")]


class SamplingPolicy(BaseModel):
    """A pool's audit sampling policy (or a hospital contract's replacement for it)."""

    new_coder_audits: int = Field(default=30, ge=0, le=1000)
    target_accuracy: float = Field(default=95.0, ge=0, le=100)
    random_percent: float = Field(default=5.0, ge=0, le=100)
    inpatient: bool = False
    charges_above: Decimal | None = Field(default=None, gt=0, le=99_999_999, decimal_places=2)
    code_ranges: list[CodeRangeSpec] = Field(default_factory=list, max_length=50)
    audit_sla_seconds: int = Field(default=172_800, ge=1, le=365 * 86_400)
    prefer_other_vendor: bool = False  # an auditor of another vendor re-codes, when there is one

    @field_validator("code_ranges")
    @classmethod
    def _ranges_parse(cls, ranges: list[str]) -> list[str]:
        for spec in ranges:
            parse_code_range(spec)
        return ranges


class CoderRecord(BaseModel):
    """The coder's audits so far: how many, and their pooled accuracy over the last N."""

    audited: int = 0
    accuracy_percent: float | None = None


class SamplingFacts(BaseModel):
    """Everything the decision reads, gathered by an activity (no PHI: the charges rule
    arrives as a yes / no against the policy's amount). Without a policy nothing is sampled."""

    policy: SamplingPolicy | None
    policy_source: Literal["none", "pool", "contract"]
    coder: CoderRecord
    encounter_class: str
    charges_above_amount: bool
    codes: list[str]


class SamplingDecision(BaseModel):
    audit: bool
    rule: Rule | None  # None: no rule chose it
    reason: str
    draw: float


def sampling_draw(encounter_key: str, task_id: str) -> float:
    """A number in [0, 1) from the ids alone: the same on every replay, by anyone."""
    digest = hashlib.sha256(f"{encounter_key}|{task_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide_sampling(facts: SamplingFacts, draw: float) -> SamplingDecision:
    policy, coder = facts.policy, facts.coder
    if policy is None:
        return SamplingDecision(audit=False, rule=None, reason="no sampling policy", draw=draw)
    n, target = policy.new_coder_audits, policy.target_accuracy

    def audit(rule: Rule, reason: str) -> SamplingDecision:
        return SamplingDecision(audit=True, rule=rule, reason=reason, draw=draw)

    if coder.audited < n:
        return audit("new_coder", f"{coder.audited} of {n} audits done")
    if coder.accuracy_percent is not None and coder.accuracy_percent < target:
        return audit("below_target", f"accuracy {coder.accuracy_percent:g}% < {target:g}%")
    if policy.inpatient and facts.encounter_class == "inpatient":
        return audit("inpatient", "every inpatient encounter")
    if policy.charges_above is not None and facts.charges_above_amount:
        return audit("charges_above", f"charges above {policy.charges_above}")
    if matched := _in_ranges(facts.codes, policy.code_ranges):
        return audit("code_range", f"{matched[0]} in {matched[1]}")
    if draw < policy.random_percent / 100:
        return audit("random", f"draw {draw:.4f} < {policy.random_percent:g}%")
    return SamplingDecision(
        audit=False,
        rule=None,
        reason=f"no rule; draw {draw:.4f} >= {policy.random_percent:g}%",
        draw=draw,
    )


def _in_ranges(codes: list[str], specs: list[str]) -> tuple[str, str] | None:
    for spec in specs:
        found = parse_code_range(spec)
        for code in codes:
            if code.upper() in found:
                return code, spec
    return None
