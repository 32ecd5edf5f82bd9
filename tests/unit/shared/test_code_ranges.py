import pytest

from shared.code_ranges import CodeRange, parse_range_item, ranges_in_note


@pytest.mark.parametrize(
    ("item", "inside", "outside"),
    [
        ("K51.-", ["K51", "K51.90", "K51.011"], ["K50.90", "K52.9"]),
        ("E08-E13", ["E08.9", "E11.9", "E13.10"], ["E07.9", "E14", "E15"]),
        ("A04.0-A04.4", ["A04.0", "A04.39"], ["A04.5", "A04.71"]),
        ("I63.3-I63.5-", ["I63.30", "I63.512"], ["I63.6", "I63.20"]),
        ("O00-O9A", ["O00.0", "O80", "O99.89", "O9A.11"], ["N99.9", "P00.0"]),
        ("T88.7", ["T88.7"], ["T88.6", "T88.8"]),
    ],
)
def test_ranges_as_the_tabular_list_writes_them(
    item: str, inside: list[str], outside: list[str]
) -> None:
    code_range = parse_range_item(item)
    assert code_range is not None
    assert all(code in code_range for code in inside)
    assert not any(code in code_range for code in outside)


def test_a_note_with_several_ranges() -> None:
    ranges = ranges_in_note("endocrine disease, except diabetes (E00-E07, E15-E16, E20-E34)")
    assert ranges == [CodeRange("E00", "E07"), CodeRange("E15", "E16"), CodeRange("E20", "E34")]


def test_qualified_groups_and_words_in_parentheses_are_skipped() -> None:
    assert ranges_in_note("diabetes mellitus (E08-E13 with .42)") == []
    assert ranges_in_note("otitis media (acute) NOS (H66.9)") == [CodeRange("H669", "H669")]
    assert ranges_in_note("certain localized infections - see body system chapters") == []
