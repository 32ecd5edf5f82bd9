"""Whether a physician's answer fits the query it answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    text: str
    kind: str  # clinical | other | undetermined


def answer_problems(
    options: Sequence[Option], choice: str | None, text: str | None
) -> list[tuple[str, str]]:
    """(field, reason) for each way the answer does not fit; empty when it does.

    A query with options (multiple choice, yes/no) is answered by choosing one of them, in the
    physician's own words when it is "Other"; an open-ended query is answered in words only.
    """
    has_text = bool(text and text.strip())
    if not options:
        problems = [] if has_text else [("text", "an open-ended query is answered in words")]
        return problems + ([("choice", "an open-ended query offers no choices")] if choice else [])
    chosen = next((o for o in options if o.text == choice), None)
    if chosen is None:
        offered = ", ".join(f'"{o.text}"' for o in options)
        return [("choice", f"must be one of the options offered: {offered}")]
    if chosen.kind == "other" and not has_text:
        return [("text", f'"{chosen.text}" needs the physician\'s own words')]
    return []
