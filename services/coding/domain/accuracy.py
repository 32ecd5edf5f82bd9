"""QA audit scoring: a coder's codes against the audit's final codes (the reference).

One definition for every coder, vendor and automated coder (docs/audits.md):

    accuracy % = 100 * matched / (matched + weighted errors)

per code set (diagnoses, procedures) and over both together, where `matched` counts the
coder's lines whose code the reference has too, and each difference (`differences.py`) is an
error of its weight: a code added, deleted or changed 1; a wrong principal diagnosis 1 more
(it drives the DRG and medical necessity); a code out of sequence 0.5 (not again when the move
is the principal's: the principal weight covers it); a POA, modifier or units difference 0.5.
A record is accurate when the audit finds no difference at all. Two empty codings score 100.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from services.coding.domain.differences import (
    CODE_KINDS,
    Coding,
    Difference,
    Kind,
    SetComparison,
    compare_codings,
)

CODE_WEIGHT = 1.0
PRINCIPAL_WEIGHT = 1.0
SEQUENCING_WEIGHT = 0.5
DETAIL_WEIGHT = 0.5  # POA, modifier, units


def difference_weight(difference: Difference) -> float:
    """The error one difference costs in the accuracy percentage."""
    if difference.kind in CODE_KINDS:
        return CODE_WEIGHT
    if difference.kind is Kind.SEQUENCING:
        return 0.0 if difference.principal else SEQUENCING_WEIGHT
    return DETAIL_WEIGHT


def percent(matched: float, errors: float) -> float:
    """100 * matched / (matched + errors), rounded to 2 places; 100 when both are 0."""
    total = matched + errors
    return 100.0 if total == 0 else round(100.0 * matched / total, 2)


@dataclass(frozen=True, slots=True)
class CodeSetScore:
    matched: int
    missed: int  # in the reference only (false negatives)
    extra: int  # in the coder's coding only (false positives)
    errors: float = 0.0  # weighted differences

    @property
    def accuracy_percent(self) -> float:
        return percent(self.matched, self.errors)

    @property
    def precision(self) -> float:
        coded = self.matched + self.extra
        if coded == 0:
            return 1.0 if self.missed == 0 else 0.0
        return self.matched / coded

    @property
    def recall(self) -> float:
        expected = self.matched + self.missed
        if expected == 0:
            return 1.0 if self.extra == 0 else 0.0
        return self.matched / expected

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def to_dict(self) -> dict[str, float | int]:
        return {
            **asdict(self),
            "accuracy_percent": self.accuracy_percent,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True, slots=True)
class AccuracyScore:
    diagnoses: CodeSetScore
    procedures: CodeSetScore
    combined: CodeSetScore
    principal_match: bool | None  # None when either side lists no diagnosis
    accuracy_percent: float
    differences: tuple[Difference, ...] = ()

    @property
    def record_accurate(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, object]:
        return {
            "diagnoses": self.diagnoses.to_dict(),
            "procedures": self.procedures.to_dict(),
            "combined": self.combined.to_dict(),
            "principal_match": self.principal_match,
            "accuracy_percent": self.accuracy_percent,
            "record_accurate": self.record_accurate,
            "differences": [d.to_dict() for d in self.differences],
        }


def score_accuracy(coder: Coding, reference: Coding) -> AccuracyScore:
    """Score `coder` against `reference` (the auditor's final codes), each an EncounterInput or a
    document with `diagnoses` / `procedures` lists (items code strings or objects with a
    `code`, and `poa`, `modifiers`, `units` when they have them)."""
    comparison = compare_codings(coder, reference)
    dx, px = comparison.diagnoses, comparison.procedures
    principal_match = dx.coder[0].code == dx.auditor[0].code if dx.coder and dx.auditor else None
    diagnoses = _set_score(dx, PRINCIPAL_WEIGHT if principal_match is False else 0.0)
    procedures = _set_score(px, 0.0)
    combined = CodeSetScore(
        diagnoses.matched + procedures.matched,
        diagnoses.missed + procedures.missed,
        diagnoses.extra + procedures.extra,
        diagnoses.errors + procedures.errors,
    )
    return AccuracyScore(
        diagnoses,
        procedures,
        combined,
        principal_match,
        combined.accuracy_percent,
        comparison.differences,
    )


def _set_score(compared: SetComparison, extra_errors: float) -> CodeSetScore:
    matched = len(compared.same_code)
    errors = sum(difference_weight(d) for d in compared.differences) + extra_errors
    return CodeSetScore(
        matched, len(compared.auditor) - matched, len(compared.coder) - matched, errors
    )
