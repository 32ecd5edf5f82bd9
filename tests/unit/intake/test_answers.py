"""A physician's answer must fit its query's format and options."""

from services.intake.domain.answers import Option, answer_problems

OPTIONS = [
    Option("Sepsis", "clinical"),
    Option("SIRS of non-infectious origin", "clinical"),
    Option("Other (please specify)", "other"),
    Option("Clinically undetermined", "undetermined"),
]


def test_a_choice_among_the_options_fits() -> None:
    assert answer_problems(OPTIONS, "Sepsis", None) == []
    assert answer_problems(OPTIONS, "Clinically undetermined", None) == []
    assert answer_problems(OPTIONS, "Other (please specify)", "Viral syndrome") == []


def test_a_choice_outside_the_options_or_other_without_words_does_not() -> None:
    [(field, reason)] = answer_problems(OPTIONS, "Septic shock", None)
    assert field == "choice"
    assert '"Clinically undetermined"' in reason
    assert answer_problems(OPTIONS, None, "Sepsis") == [(field, reason)]
    assert answer_problems(OPTIONS, "Other (please specify)", "  ") == [
        ("text", '"Other (please specify)" needs the physician\'s own words')
    ]


def test_an_open_ended_query_is_answered_in_words_only() -> None:
    assert answer_problems([], None, "Acute on chronic systolic heart failure") == []
    assert [f for f, _ in answer_problems([], None, None)] == ["text"]
    assert [f for f, _ in answer_problems([], "Sepsis", "words")] == ["choice"]
