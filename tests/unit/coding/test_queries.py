"""Physician query compliance: each rule refuses what it should, and only that."""

from __future__ import annotations

import pytest

from services.coding.domain.queries import (
    Indicator,
    OptionKind,
    QueryDraft,
    QueryFormat,
    QueryRule,
    YesNoUse,
    check_query,
    offered_options,
)

CHART = [
    "Admitted with fever 39.2 C, heart rate 118, WBC 18.4; lactate 3.1. Blood cultures drawn.",
    "Day 2: hemoglobin 7.9, transfused 2 units. Creatinine 2.1 from baseline 0.9.",
]
FEVER = Indicator(document=0, start=CHART[0].index("fever"), quote="fever 39.2 C")
LACTATE = Indicator(document=0, start=CHART[0].index("lactate"), quote="lactate 3.1")
CHOICES = ["Sepsis", "SIRS of non-infectious origin", "Other (please specify)"]
MULTIPLE_CHOICE = [*CHOICES, "Clinically undetermined"]


def draft(**changes: object) -> QueryDraft:
    fields: dict[str, object] = {
        "question": "Based on the indicators, please document the condition being treated.",
        "format": QueryFormat.MULTIPLE_CHOICE,
        "indicators": [FEVER, LACTATE],
        "options": MULTIPLE_CHOICE,
    }
    fields.update(changes)
    return QueryDraft(**fields)  # type: ignore[arg-type]


def rules(query: QueryDraft) -> list[str]:
    return [r.rule.value for r in check_query(query, CHART)]


def test_a_compliant_multiple_choice_query_passes() -> None:
    assert check_query(draft(), CHART) == []


def test_open_ended_and_allowed_yes_no_queries_pass() -> None:
    assert rules(draft(format=QueryFormat.OPEN_ENDED, options=[])) == []
    for use in YesNoUse:
        assert rules(draft(format=QueryFormat.YES_NO, options=[], yes_no_use=use)) == []


def test_a_query_without_indicators_is_refused() -> None:
    [refusal] = check_query(draft(indicators=[]), CHART)

    assert refusal.rule is QueryRule.NO_INDICATOR
    assert refusal.field == "indicators"
    assert "clinical indicator" in refusal.message


@pytest.mark.parametrize(
    "indicator",
    [
        Indicator(document=0, start=FEVER.start + 1, quote=FEVER.quote),  # one character off
        Indicator(document=1, start=FEVER.start, quote=FEVER.quote),  # another document
        Indicator(document=2, start=0, quote="Admitted"),  # no such document
        Indicator(document=0, start=-1, quote="Admitted"),
        Indicator(document=0, start=0, quote="Admitted with fever 40.1"),  # not what it says
    ],
)
def test_an_indicator_must_be_quoted_where_it_is_in_the_chart(indicator: Indicator) -> None:
    [refusal] = check_query(draft(indicators=[FEVER, indicator]), CHART)

    assert refusal.rule is QueryRule.INDICATOR_NOT_IN_CHART
    assert refusal.field == "indicators.1"
    assert indicator.quote not in refusal.message  # the chart is PHI: never quoted back


def test_multiple_choice_needs_other_and_clinically_undetermined() -> None:
    assert rules(draft(options=CHOICES)) == ["QUERY_MULTIPLE_CHOICE_NO_UNDETERMINED"]
    assert rules(draft(options=["Sepsis", "SIRS", "Clinically undetermined"])) == [
        "QUERY_MULTIPLE_CHOICE_NO_OTHER"
    ]
    assert rules(draft(options=["Sepsis", "SIRS"])) == [
        "QUERY_MULTIPLE_CHOICE_NO_OTHER",
        "QUERY_MULTIPLE_CHOICE_NO_UNDETERMINED",
    ]


def test_multiple_choice_needs_two_clinical_options_and_no_repeats() -> None:
    assert rules(draft(options=["Sepsis", "Other", "Clinically undetermined"])) == [
        "QUERY_MULTIPLE_CHOICE_TOO_FEW"
    ]
    assert rules(draft(options=[*MULTIPLE_CHOICE, "sepsis"])) == ["QUERY_DUPLICATE_OPTION"]


def test_yes_no_outside_its_allowed_uses_is_refused() -> None:
    [refusal] = check_query(draft(format=QueryFormat.YES_NO, options=[]), CHART)

    assert refusal.rule is QueryRule.YES_NO_NOT_ALLOWED
    assert "POA status" in refusal.message


def test_open_ended_offers_no_options() -> None:
    assert rules(draft(format=QueryFormat.OPEN_ENDED)) == ["QUERY_OPTIONS_ON_OPEN_ENDED"]


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        ("Documenting sepsis would increase reimbursement: please clarify.", "FINANCIAL"),
        ("Please clarify the diagnosis; the payer requires it.", "FINANCIAL"),
        ("Is there an MCC that can be documented?", "DRG"),
        ("Clarifying this would change the MS-DRG.", "DRG"),
        ("Please document to reflect the severity of illness.", "SEVERITY_SCORE"),
        ("This affects the patient's risk of mortality (ROM) score.", "SEVERITY_SCORE"),
        ("Our quality scores depend on complete documentation.", "QUALITY_SCORE"),
        ("This would be reported as a PSI.", "QUALITY_SCORE"),
    ],
)
def test_leading_language_is_refused(question: str, rule: str) -> None:
    refusals = check_query(draft(question=question), CHART)

    assert [r.rule.value for r in refusals] == [f"QUERY_LEADING_{rule}"]
    assert refusals[0].field == "question"


def test_leading_language_in_an_option_is_refused_too() -> None:
    options = ["Sepsis (higher DRG)", *MULTIPLE_CHOICE[1:]]

    [refusal] = check_query(draft(options=options), CHART)

    assert (refusal.rule, refusal.field) == (QueryRule.LEADING_DRG, "options.0")


@pytest.mark.parametrize(
    "question",
    [
        "Please clarify the severity of the malnutrition (mild, moderate, severe).",
        "Was the anemia due to acute blood loss?",
        "Please clarify the acuity of the kidney injury.",
        "The patient was prepaid? Please clarify the encounter type.",  # not a word match
    ],
)
def test_clinical_questions_are_not_mistaken_for_leading_ones(question: str) -> None:
    assert rules(draft(question=question)) == []


def test_every_reason_is_given_at_once() -> None:
    leading = draft(question="Sepsis would improve our DRG.", indicators=[], options=["Sepsis"])

    assert rules(leading) == [
        "QUERY_NO_INDICATOR",
        "QUERY_MULTIPLE_CHOICE_TOO_FEW",
        "QUERY_MULTIPLE_CHOICE_NO_OTHER",
        "QUERY_MULTIPLE_CHOICE_NO_UNDETERMINED",
        "QUERY_LEADING_DRG",
    ]


def test_the_options_offered_carry_their_kind() -> None:
    assert offered_options(draft()) == [
        ("Sepsis", OptionKind.CLINICAL),
        ("SIRS of non-infectious origin", OptionKind.CLINICAL),
        ("Other (please specify)", OptionKind.OTHER),
        ("Clinically undetermined", OptionKind.UNDETERMINED),
    ]
    yes_no = draft(format=QueryFormat.YES_NO, options=[], yes_no_use=YesNoUse.POA_STATUS)
    assert [kind for _, kind in offered_options(yes_no)] == [
        OptionKind.CLINICAL,
        OptionKind.CLINICAL,
        OptionKind.UNDETERMINED,
    ]
    assert offered_options(draft(format=QueryFormat.OPEN_ENDED, options=[])) == []
