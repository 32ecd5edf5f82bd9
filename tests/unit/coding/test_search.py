from services.coding.domain import search_codes


def codes(query: str, limit: int = 20) -> list[str]:
    return [hit.code for hit in search_codes(query, limit)]


def test_exact_code_comes_first_in_any_spelling() -> None:
    assert codes("E11.9")[0] == "E11.9"
    assert codes(" e119 ")[0] == "E11.9"


def test_code_prefix_lists_the_category_then_billable_codes_under_it() -> None:
    found = codes("E11", limit=10)
    assert found[0] == "E11"
    assert all(code.startswith("E11") for code in found)
    hits = search_codes("E11", limit=10)
    assert all(hit.billable for hit in hits[1:4])


def test_prefix_of_a_seventh_character_code() -> None:
    found = codes("S72.001")
    assert found[0] == "S72.001" and "S72.001A" in found


def test_words_find_billable_codes_whose_title_holds_every_word() -> None:
    hits = search_codes("type 2 diabetes without complications", limit=5)
    assert hits[0].code == "E11.9"
    assert hits[0].billable
    assert "without complications" in hits[0].description


def test_partly_typed_last_word_and_case() -> None:
    found = codes("Crohn dise", limit=50)
    assert found and all(code.startswith("K50") for code in found)


def test_inclusion_terms_are_searched_after_titles() -> None:
    # "Asthma NOS" is an inclusion term of J45.909 (Unspecified asthma, uncomplicated).
    assert "J45.909" in codes("asthma nos")


def test_no_match_and_limits() -> None:
    assert codes("zzzz qqqq") == []
    assert codes("") == []
    assert len(codes("fracture", limit=5)) == 5
    assert len(codes("fracture", limit=1000)) == 100
