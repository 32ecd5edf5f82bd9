"""Physician queries that are compliant by construction.

The rules follow the AHIMA/ACDIS "Guidelines for Achieving a Compliant Query Practice" (2022
update): a query rests on clinical indicators from the record, offers multiple choice only with
"other" and "clinically undetermined", uses yes/no only where it may, and never leads (no
mention of payment, DRGs, severity or quality scores). `check_query` names every reason a draft
is refused; reasons never quote the chart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class QueryFormat(StrEnum):
    OPEN_ENDED = "open_ended"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"


class YesNoUse(StrEnum):
    """The only uses of a yes/no query the guidelines allow."""

    CONFIRM_DOCUMENTED_CONDITION = "confirm_documented_condition"
    CAUSE_AND_EFFECT = "cause_and_effect"
    POA_STATUS = "poa_status"


class QueryRule(StrEnum):
    """Stable ids of the reasons a query is refused: clients key on them."""

    NO_INDICATOR = "QUERY_NO_INDICATOR"
    INDICATOR_NOT_IN_CHART = "QUERY_INDICATOR_NOT_IN_CHART"
    OPTIONS_ON_OPEN_ENDED = "QUERY_OPTIONS_ON_OPEN_ENDED"
    MULTIPLE_CHOICE_TOO_FEW = "QUERY_MULTIPLE_CHOICE_TOO_FEW"
    MULTIPLE_CHOICE_NO_OTHER = "QUERY_MULTIPLE_CHOICE_NO_OTHER"
    MULTIPLE_CHOICE_NO_UNDETERMINED = "QUERY_MULTIPLE_CHOICE_NO_UNDETERMINED"
    DUPLICATE_OPTION = "QUERY_DUPLICATE_OPTION"
    YES_NO_NOT_ALLOWED = "QUERY_YES_NO_NOT_ALLOWED"
    LEADING_FINANCIAL = "QUERY_LEADING_FINANCIAL"
    LEADING_DRG = "QUERY_LEADING_DRG"
    LEADING_SEVERITY_SCORE = "QUERY_LEADING_SEVERITY_SCORE"
    LEADING_QUALITY_SCORE = "QUERY_LEADING_QUALITY_SCORE"


#: The option every multiple-choice query offers for a free-text answer, and the one for a
#: physician who cannot tell; answers name them by these texts.
OTHER = "Other"
CLINICALLY_UNDETERMINED = "Clinically undetermined"
#: The answers a yes/no query offers.
YES_NO_CHOICES = ("Yes", "No", CLINICALLY_UNDETERMINED)
#: Fewer clinically supported options than this makes a multiple-choice query a yes/no in
#: disguise (one diagnosis offered), which is not an allowed use of yes/no.
MIN_CLINICAL_OPTIONS = 2


@dataclass(frozen=True)
class Indicator:
    """A clinical indicator: a quote from chart document `document` at character `start`."""

    document: int
    start: int
    quote: str


@dataclass(frozen=True)
class QueryDraft:
    question: str
    format: QueryFormat
    indicators: Sequence[Indicator]
    options: Sequence[str] = ()
    yes_no_use: YesNoUse | None = None


@dataclass(frozen=True)
class Refusal:
    rule: QueryRule
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule.value, "field": self.field, "message": self.message}


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


# Words that lead the physician toward an answer for money or scores. Bare "severity" stays
# allowed: "the severity of the malnutrition (mild, moderate, severe)" is a clinical question.
LEADING: tuple[tuple[QueryRule, re.Pattern[str], str], ...] = (
    (
        QueryRule.LEADING_FINANCIAL,
        _words(
            r"pay(?:s|ing|ment|ments|er|ers)?",
            r"paid",
            r"reimburse(?:s|d|ment|ments)?",
            r"revenue",
            r"financial(?:ly)?",
            r"money",
            r"dollars?",
            r"billing",
        ),
        "payment or reimbursement",
    ),
    (
        QueryRule.LEADING_DRG,
        _words(
            r"(?:ms-|apr-)?drgs?",
            r"mcc",
            r"cc/mcc",
            r"case[- ]mix",
            r"cmi",
            r"relative weight",
        ),
        "a DRG or its weight",
    ),
    (
        QueryRule.LEADING_SEVERITY_SCORE,
        _words(
            r"severity of illness",
            r"severity scores?",
            r"soi",
            r"risk of mortality",
            r"rom",
            r"risk[- ]adjust(?:ed|ment)",
            r"hccs?",
            r"expected mortality",
        ),
        "severity-of-illness or risk scores",
    ),
    (
        QueryRule.LEADING_QUALITY_SCORE,
        _words(
            r"quality (?:scores?|measures?|metrics?|ratings?|indicators?)",
            r"star ratings?",
            r"psis?",
            r"patient safety indicators?",
            r"value[- ]based",
            r"hospital compare",
            r"hac",
        ),
        "quality scores",
    ),
)


def _normalized(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def is_other(option: str) -> bool:
    """ "Other", "Other (please specify)", "Other:" …"""
    return _normalized(option).split(" ")[:1] == ["other"]


def is_undetermined(option: str) -> bool:
    return _normalized(option) == _normalized(CLINICALLY_UNDETERMINED)


def check_query(draft: QueryDraft, documents: Sequence[str]) -> list[Refusal]:
    """Every reason the draft may not be sent; empty when it is compliant.

    `documents` are the texts of the chart the coder was given, in order (addenda included).
    """
    return [
        *_indicators(draft.indicators, documents),
        *_format(draft),
        *_leading(draft),
    ]


def _indicators(indicators: Sequence[Indicator], documents: Sequence[str]) -> list[Refusal]:
    if not indicators:
        return [
            Refusal(
                QueryRule.NO_INDICATOR,
                "indicators",
                "a query must cite at least one clinical indicator quoted from the chart",
            )
        ]
    refusals = []
    for i, indicator in enumerate(indicators):
        text = documents[indicator.document] if 0 <= indicator.document < len(documents) else None
        end = indicator.start + len(indicator.quote)
        if text is None or indicator.start < 0 or text[indicator.start : end] != indicator.quote:
            # Where it was looked for, never what the chart or the quote says (PHI).
            refusals.append(
                Refusal(
                    QueryRule.INDICATOR_NOT_IN_CHART,
                    f"indicators.{i}",
                    f"the quote is not at character {indicator.start} of chart document "
                    f"{indicator.document} ({len(documents)} document(s) in the chart)",
                )
            )
    return refusals


def _format(draft: QueryDraft) -> list[Refusal]:
    if draft.format is QueryFormat.OPEN_ENDED:
        if draft.options:
            return [
                Refusal(
                    QueryRule.OPTIONS_ON_OPEN_ENDED,
                    "options",
                    "an open-ended query offers no options; use multiple_choice",
                )
            ]
        return []
    if draft.format is QueryFormat.YES_NO:
        if draft.yes_no_use is None:
            return [
                Refusal(
                    QueryRule.YES_NO_NOT_ALLOWED,
                    "yes_no_use",
                    "a yes/no query may only confirm a documented condition, a cause-and-effect "
                    "link implied in the record, or POA status: say which "
                    f"({', '.join(u.value for u in YesNoUse)}), or ask open-ended or "
                    "multiple choice",
                )
            ]
        return []
    return _multiple_choice(draft.options)


def _multiple_choice(options: Sequence[str]) -> list[Refusal]:
    refusals = []
    clinical = [o for o in options if not is_other(o) and not is_undetermined(o)]
    if len(clinical) < MIN_CLINICAL_OPTIONS:
        refusals.append(
            Refusal(
                QueryRule.MULTIPLE_CHOICE_TOO_FEW,
                "options",
                f"offer at least {MIN_CLINICAL_OPTIONS} clinically supported options (one "
                "diagnosis alone is a yes/no question on a new diagnosis)",
            )
        )
    if not any(is_other(o) for o in options):
        refusals.append(
            Refusal(
                QueryRule.MULTIPLE_CHOICE_NO_OTHER,
                "options",
                f'a multiple-choice query must offer "{OTHER}" with free text',
            )
        )
    if not any(is_undetermined(o) for o in options):
        refusals.append(
            Refusal(
                QueryRule.MULTIPLE_CHOICE_NO_UNDETERMINED,
                "options",
                f'a multiple-choice query must offer "{CLINICALLY_UNDETERMINED}"',
            )
        )
    seen: list[str] = []
    for i, option in enumerate(options):
        if _normalized(option) in seen:
            refusals.append(
                Refusal(QueryRule.DUPLICATE_OPTION, f"options.{i}", "this option is offered twice")
            )
        seen.append(_normalized(option))
    return refusals


def _leading(draft: QueryDraft) -> list[Refusal]:
    texts = [("question", draft.question)] + [
        (f"options.{i}", option) for i, option in enumerate(draft.options)
    ]
    refusals = []
    for rule, pattern, what in LEADING:
        for name, text in texts:
            found = pattern.search(text)
            if found:
                refusals.append(
                    Refusal(
                        rule,
                        name,
                        f'leading: mentions {what} ("{found.group(0)}"); a query may not mention '
                        "payment, reimbursement, DRGs, severity or quality scores",
                    )
                )
                break
    return refusals


class OptionKind(StrEnum):
    CLINICAL = "clinical"
    OTHER = "other"  # the answer needs the physician's own words
    UNDETERMINED = "undetermined"


def offered_options(draft: QueryDraft) -> list[tuple[str, OptionKind]]:
    """What the physician may choose from, each with its kind (none for open-ended)."""
    options = YES_NO_CHOICES if draft.format is QueryFormat.YES_NO else draft.options
    if draft.format is QueryFormat.OPEN_ENDED:
        return []
    return [(o, _kind(o)) for o in options]


def _kind(option: str) -> OptionKind:
    if is_other(option):
        return OptionKind.OTHER
    if is_undetermined(option):
        return OptionKind.UNDETERMINED
    return OptionKind.CLINICAL


def addendum(question: str, choice: str | None, text: str | None, npi: str, on: str) -> str:
    """The physician's answer as it joins the chart (a document of its own)."""
    answer = "; ".join(part for part in (choice, text) if part)
    return f"Physician query answered by NPI {npi} on {on}.\nQuery: {question}\nAnswer: {answer}"
