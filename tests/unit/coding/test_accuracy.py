import pytest

from services.coding.domain import parse_encounter, score_accuracy
from tests.unit.coding.conftest import encounter


def test_identical_codings_score_100() -> None:
    doc = encounter("E11.9", "I10", procedures=[{"code": "99214"}])
    score = score_accuracy(doc, doc)
    assert score.accuracy_percent == 100.0
    assert score.combined.precision == score.combined.recall == score.combined.f1 == 1.0
    assert score.principal_match is True


def test_missed_and_extra_codes() -> None:
    coder = {"diagnoses": ["E11.9", "I10", "R51.9"], "procedures": ["99214"]}
    auditor = {"diagnoses": ["E11.9", "I10", "E78.5", "N18.3"], "procedures": ["99214"]}
    score = score_accuracy(coder, auditor)
    assert (score.diagnoses.matched, score.diagnoses.missed, score.diagnoses.extra) == (2, 2, 1)
    assert score.diagnoses.precision == pytest.approx(2 / 3)
    assert score.diagnoses.recall == pytest.approx(2 / 4)
    assert score.diagnoses.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    # 3 matched (2 dx + 1 procedure), 2 missed, 1 extra: 3 / 6.
    assert score.accuracy_percent == 50.0


def test_a_wrong_principal_costs_one_error_even_with_the_same_codes() -> None:
    coder = {"diagnoses": ["I10", "E11.9"]}
    auditor = {"diagnoses": ["E11.9", "I10"]}
    score = score_accuracy(coder, auditor)
    assert score.principal_match is False
    assert score.combined.f1 == 1.0
    assert score.accuracy_percent == pytest.approx(100 * 2 / 3, abs=0.01)


def test_codes_are_compared_after_normalising() -> None:
    coder = parse_encounter(encounter("e119", "i10"))
    score = score_accuracy(coder, {"diagnoses": [{"code": "E11.9"}, {"code": "I10"}]})
    assert score.accuracy_percent == 100.0


def test_empty_codings() -> None:
    assert score_accuracy({"diagnoses": []}, {"diagnoses": []}).accuracy_percent == 100.0
    score = score_accuracy({"diagnoses": []}, {"diagnoses": ["E11.9"]})
    assert score.accuracy_percent == 0.0 and score.principal_match is None
    assert score.diagnoses.precision == 0.0 and score.diagnoses.recall == 0.0
    with pytest.raises(ValueError, match="diagnoses"):
        score_accuracy({"diagnoses": "E11.9"}, {"diagnoses": []})
