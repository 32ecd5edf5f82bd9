"""QA audit scoring: a coder's codes against the auditor's (the auditor is the reference).

Accuracy percentage used in scorecards (docs/coding.md explains the choice):

    accuracy % = 100 * matched / (matched + missed + extra + principal_error)

over diagnosis and procedure codes together, where `missed` are auditor codes the coder left
out, `extra` coder codes the auditor removed, and `principal_error` is 1 when both listed
diagnoses and the principal/first-listed codes differ. Two empty codings score 100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from services.coding.domain.encounter import EncounterInput
from services.coding.domain.icd10cm import normalize_icd10cm
from services.coding.domain.procedures import normalize_procedure

Coding = EncounterInput | Mapping[str, object]


@dataclass(frozen=True, slots=True)
class CodeSetScore:
    matched: int
    missed: int  # in the auditor's coding only (false negatives)
    extra: int  # in the coder's coding only (false positives)

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

    def to_dict(self) -> dict[str, object]:
        return {
            "diagnoses": self.diagnoses.to_dict(),
            "procedures": self.procedures.to_dict(),
            "combined": self.combined.to_dict(),
            "principal_match": self.principal_match,
            "accuracy_percent": self.accuracy_percent,
        }


def score_accuracy(coder: Coding, auditor: Coding) -> AccuracyScore:
    """Compare codings given as EncounterInput or as documents with `diagnoses`/`procedures`
    lists (items either code strings or objects with a `code`)."""
    coder_dx, coder_px = _codes(coder)
    auditor_dx, auditor_px = _codes(auditor)
    diagnoses = _compare(coder_dx, auditor_dx)
    procedures = _compare(coder_px, auditor_px)
    combined = CodeSetScore(
        diagnoses.matched + procedures.matched,
        diagnoses.missed + procedures.missed,
        diagnoses.extra + procedures.extra,
    )
    principal_match = coder_dx[0] == auditor_dx[0] if coder_dx and auditor_dx else None
    errors = combined.missed + combined.extra + (1 if principal_match is False else 0)
    total = combined.matched + errors
    percent = 100.0 if total == 0 else round(100.0 * combined.matched / total, 2)
    return AccuracyScore(diagnoses, procedures, combined, principal_match, percent)


def _compare(coder: list[str], auditor: list[str]) -> CodeSetScore:
    mine, reference = set(coder), set(auditor)
    return CodeSetScore(len(mine & reference), len(reference - mine), len(mine - reference))


def _codes(coding: Coding) -> tuple[list[str], list[str]]:
    if isinstance(coding, EncounterInput):
        dx = [normalize_icd10cm(d.code) for d in coding.diagnoses]
        px = [normalize_procedure(p.code) for p in coding.procedures]
        return _ordered_unique(dx), _ordered_unique(px)
    dx = [normalize_icd10cm(code) for code in _item_codes(coding.get("diagnoses"), "diagnoses")]
    px = [normalize_procedure(c) for c in _item_codes(coding.get("procedures"), "procedures")]
    return _ordered_unique(dx), _ordered_unique(px)


def _item_codes(items: object, field: str) -> list[str]:
    if items is None:
        return []
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise ValueError(f"{field}: expected a list")
    codes = []
    for i, item in enumerate(items):
        code = item.get("code") if isinstance(item, Mapping) else item
        if not isinstance(code, str):
            raise ValueError(f"{field}[{i}]: expected a code string or an object with a code")
        codes.append(code)
    return codes


def _ordered_unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))
