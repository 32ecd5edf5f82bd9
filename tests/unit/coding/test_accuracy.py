"""The one accuracy definition (docs/audits.md), computed by hand beside the code."""

import pytest

from services.coding.domain import parse_encounter, score_accuracy
from services.coding.domain.accuracy import (
    DETAIL_WEIGHT,
    PRINCIPAL_WEIGHT,
    SEQUENCING_WEIGHT,
)
from tests.unit.coding.conftest import encounter


def test_identical_codings_score_100() -> None:
    doc = encounter("E11.9", "I10", procedures=[{"code": "99214"}])
    score = score_accuracy(doc, doc)
    assert score.accuracy_percent == 100.0
    assert score.record_accurate
    assert score.combined.precision == score.combined.recall == score.combined.f1 == 1.0
    assert score.principal_match is True


def test_a_changed_code_is_one_error_and_added_or_deleted_codes_one_each() -> None:
    coder = {"diagnoses": ["E11.9", "I10", "R51.9"], "procedures": ["99214"]}
    auditor = {"diagnoses": ["E11.9", "I10", "E78.5", "N18.30"], "procedures": ["99214"]}
    score = score_accuracy(coder, auditor)
    assert (score.diagnoses.matched, score.diagnoses.missed, score.diagnoses.extra) == (2, 2, 1)
    assert score.diagnoses.precision == pytest.approx(2 / 3)
    assert score.diagnoses.recall == pytest.approx(2 / 4)
    # R51.9 -> E78.5 changed (1), N18.30 added (1); 3 codes matched (2 dx + 1 procedure).
    assert score.accuracy_percent == pytest.approx(100 * 3 / (3 + 2), abs=0.01)
    assert score.diagnoses.accuracy_percent == 50.0  # 2 / (2 + 2)
    assert score.procedures.accuracy_percent == 100.0
    assert not score.record_accurate


def test_a_wrong_principal_costs_its_weight_and_its_move_is_not_charged_twice() -> None:
    coder = {"diagnoses": ["I10", "E11.9"]}
    auditor = {"diagnoses": ["E11.9", "I10"]}
    score = score_accuracy(coder, auditor)
    assert score.principal_match is False
    assert score.combined.f1 == 1.0
    assert score.accuracy_percent == pytest.approx(100 * 2 / (2 + PRINCIPAL_WEIGHT), abs=0.01)


def test_secondary_sequencing_and_detail_differences_weigh_half() -> None:
    coder = {
        "diagnoses": [{"code": "J18.9", "poa": "Y"}, "I10", "E11.9", "N39.0"],
        "procedures": [{"code": "20610", "modifiers": ["RT"], "units": 1}],
    }
    auditor = {
        "diagnoses": [{"code": "J18.9", "poa": "N"}, "E11.9", "I10", "N39.0"],
        "procedures": [{"code": "20610", "modifiers": ["LT"], "units": 2}],
    }
    score = score_accuracy(coder, auditor)
    kinds = sorted(str(d.kind) for d in score.differences)
    assert kinds == ["modifier", "poa", "sequencing", "units"]
    # 5 matched; POA, sequencing (I10 or E11.9), modifier, units: 4 half errors.
    errors = 3 * DETAIL_WEIGHT + SEQUENCING_WEIGHT
    assert score.accuracy_percent == pytest.approx(100 * 5 / (5 + errors), abs=0.01)
    assert score.diagnoses.accuracy_percent == pytest.approx(100 * 4 / (4 + 1.0), abs=0.01)


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
