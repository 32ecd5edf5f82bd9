"""The final codes follow the auditor's decision on each difference."""

from __future__ import annotations

import pytest

from services.coding.domain.differences import compare_codings
from services.coding.domain.reconciliation import DecisionsIncomplete, final_coding

CODER = {
    "diagnoses": [{"code": "M17.11"}, {"code": "I10"}, {"code": "E11.9"}],
    "procedures": [
        {"code": "99214", "modifiers": ["25"], "units": 1, "dx_pointers": [1, 2]},
        {"code": "20610", "modifiers": ["RT"], "units": 1, "dx_pointers": [1]},
    ],
}
AUDITOR = {
    "diagnoses": [{"code": "M17.11"}, {"code": "E11.65"}, {"code": "I10"}, {"code": "Z79.4"}],
    "procedures": [
        {"code": "99213", "modifiers": ["25"], "units": 1, "dx_pointers": [1, 2]},
        {"code": "20610", "modifiers": ["RT"], "units": 1, "dx_pointers": [1]},
    ],
}


def test_deciding_every_difference_for_the_auditor_gives_the_auditors_codes() -> None:
    comparison = compare_codings(CODER, AUDITOR)
    final = final_coding(comparison, {d.id: "auditor" for d in comparison.differences})
    assert final["diagnoses"] == AUDITOR["diagnoses"]
    assert final["procedures"] == AUDITOR["procedures"]


def test_differences_decided_for_the_coder_put_the_coders_version_back() -> None:
    comparison = compare_codings(CODER, AUDITOR)
    ids = {d.describe(): d.id for d in comparison.differences}
    assert set(ids) == {
        "E11.9 changed to E11.65",
        "Z79.4 added at 4",
        "99214 changed to 99213",
    }
    decisions = {d: "auditor" for d in ids.values()}
    decisions[ids["Z79.4 added at 4"]] = "coder"
    decisions[ids["99214 changed to 99213"]] = "coder"

    final = final_coding(comparison, decisions)

    assert [d["code"] for d in final["diagnoses"]] == ["M17.11", "E11.65", "I10"]
    # The E/M line is the coder's again; its pointers follow its diagnoses by code.
    assert final["procedures"][0] == {
        "code": "99214", "modifiers": ["25"], "units": 1, "dx_pointers": [1, 3],
    }  # fmt: skip


def test_a_sequencing_decision_for_the_coder_restores_the_coders_order() -> None:
    comparison = compare_codings(
        {"diagnoses": ["I10", "E11.9"]}, {"diagnoses": [{"code": "E11.9"}, {"code": "I10"}]}
    )
    [moved] = comparison.differences
    final = final_coding(comparison, {moved.id: "coder"})
    assert [d["code"] for d in final["diagnoses"]] == ["I10", "E11.9"]


def test_every_difference_needs_a_decision_and_only_those() -> None:
    comparison = compare_codings(CODER, AUDITOR)
    with pytest.raises(DecisionsIncomplete, match="no decision for dx-changed-3-2"):
        final_coding(comparison, {"px-changed-1-1": "auditor"})
    everything = {d.id: "auditor" for d in comparison.differences}
    with pytest.raises(DecisionsIncomplete, match="no difference dx-poa-1-1"):
        final_coding(comparison, {**everything, "dx-poa-1-1": "coder"})
