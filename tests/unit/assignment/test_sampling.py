"""QA sampling rules, first match wins, each decision with the rule that chose it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.assignment.domain.sampling import (
    CoderRecord,
    SamplingFacts,
    SamplingPolicy,
    decide_sampling,
    sampling_draw,
)

ESTABLISHED = CoderRecord(audited=40, accuracy_percent=97.5)


def _facts(
    coder: CoderRecord = ESTABLISHED,
    encounter_class: str = "professional",
    charges_above_amount: bool = False,
    codes: tuple[str, ...] = ("E11.9", "99214"),
    **policy: object,
) -> SamplingFacts:
    return SamplingFacts(
        policy=SamplingPolicy.model_validate(policy),
        policy_source="pool",
        coder=coder,
        encounter_class=encounter_class,
        charges_above_amount=charges_above_amount,
        codes=list(codes),
    )


def test_a_new_coder_is_audited_until_n_audits_at_the_target() -> None:
    new = _facts(CoderRecord(audited=29, accuracy_percent=100.0), random_percent=0)
    slipping = _facts(CoderRecord(audited=30, accuracy_percent=94.9), random_percent=0)
    proven = _facts(CoderRecord(audited=30, accuracy_percent=95.0), random_percent=0)

    assert decide_sampling(new, 0.99).rule == "new_coder"
    assert decide_sampling(new, 0.99).reason == "29 of 30 audits done"
    assert decide_sampling(slipping, 0.99).rule == "below_target"
    assert decide_sampling(proven, 0.99).audit is False


def test_targeted_rules_in_order() -> None:
    inpatient = _facts(encounter_class="inpatient", inpatient=True, charges_above_amount=True,
                       charges_above=Decimal("5000"))  # fmt: skip
    costly = _facts(charges_above_amount=True, charges_above=Decimal("5000"))
    ranged = _facts(codes=("I21.4", "93458"), code_ranges=["I21-I22", "J96"])
    procedure_range = _facts(codes=("R07.9", "93458"), code_ranges=["93451-93461"])

    assert decide_sampling(inpatient, 0.99).rule == "inpatient"
    assert decide_sampling(costly, 0.99).rule == "charges_above"
    assert decide_sampling(ranged, 0.99).reason == "I21.4 in I21-I22"
    assert decide_sampling(procedure_range, 0.99).rule == "code_range"
    # Off by default: an inpatient encounter with cheap charges and no range is just drawn.
    assert decide_sampling(_facts(encounter_class="inpatient"), 0.99).audit is False


def test_the_random_rate_and_a_draw_anyone_can_recompute() -> None:
    draw = sampling_draw("mercy:ENC-1", "task-1")

    assert draw == sampling_draw("mercy:ENC-1", "task-1")
    assert draw != sampling_draw("mercy:ENC-1", "task-2")
    assert 0 <= draw < 1
    assert decide_sampling(_facts(random_percent=5), 0.049).rule == "random"
    assert decide_sampling(_facts(random_percent=5), 0.05).audit is False
    assert decide_sampling(_facts(random_percent=100), 0.999).audit is True
    hits = sum(sampling_draw("k", f"task-{i}") < 0.1 for i in range(2000))
    assert 150 < hits < 250  # about 10% of draws


def test_without_a_policy_nothing_is_sampled() -> None:
    facts = _facts(CoderRecord(audited=0)).model_copy(update={"policy": None})
    decision = decide_sampling(facts, 0.0)
    assert (decision.audit, decision.rule, decision.reason) == (False, None, "no sampling policy")


def test_a_policy_refuses_what_it_cannot_apply() -> None:
    with pytest.raises(ValidationError, match="code_ranges"):
        SamplingPolicy(code_ranges=["I21 to I22"])
    with pytest.raises(ValidationError, match="random_percent"):
        SamplingPolicy(random_percent=150)
