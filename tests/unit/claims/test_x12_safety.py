"""No value can add a segment or an element; real names become valid claims."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest

from services.claims.domain import (
    Claim,
    InMemoryControlNumbers,
    Rule,
    Separators,
    build_837,
    scrub,
    validate_x12,
)
from services.claims.domain.x12 import split_segments
from services.claims.domain.x12_charset import BASIC, to_basic

from .conftest import WHEN

RESERVED = Separators().reserved


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Muñoz", "MUNOZ"),
        ("Nguyễn", "NGUYEN"),
        ("O'Brien", "O'BRIEN"),  # the apostrophe is in the basic character set
        ("O’Brien", "O'BRIEN"),
        ("DOE~NM1*IL*1*EVIL", "DOENM1IL1EVIL"),
        ("Smith^Jones:Jr", "SMITHJONESJR"),
        ("Zoë Ångström-Łukasz", "ZOE ANGSTROM-LUKASZ"),
        ("Straße 12, Apt #4", "STRASSE 12, APT 4"),
        ("  two\tlines\r\nhere  ", "TWO LINES HERE"),
        ("Ærøskøbing", "AEROSKOBING"),
        ("李", ""),
    ],
)
def test_values_are_written_in_the_basic_character_set_without_separators(
    value: str, expected: str
) -> None:
    assert to_basic(value, RESERVED) == expected


def test_with_other_separators_only_those_are_removed() -> None:
    reserved = Separators(element="|", sub_element=">", segment="\n", repetition="!").reserved
    assert to_basic("A*B:C~D^E|F>G!H", reserved) == "A*B:CDEFGH"


def _with_names(claim: Claim, last: str, first: str, city: str = "Springfield") -> Claim:
    person = claim.patient_person
    renamed = replace(person, last_name=last, first_name=first)
    renamed = replace(renamed, address=replace(person.address, city=city, line1=f"1 {last} St"))
    if claim.patient is not None:
        return replace(claim, patient=renamed)  # type: ignore[arg-type]
    return replace(claim, subscriber=renamed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("last", "first"), [("Muñoz", "José"), ("O'Brien", "Siobhán"), ("Nguyễn", "Thị Minh")]
)
def test_real_names_produce_claims_that_pass_pyx12(
    professional: Claim, inpatient: Claim, last: str, first: str
) -> None:
    claims = [_with_names(professional, last, first), _with_names(inpatient, last, first)]
    text = build_837(claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)

    ok, errors = validate_x12(text)

    assert ok, errors[:3]
    assert to_basic(last, RESERVED) in text
    assert [f for f in scrub(text, claims) if f.rule.name.startswith("X12")] == []


def _shape(text: str) -> list[tuple[str, int]]:
    _, segments = split_segments(text)
    return [(s[0], len(s)) for s in segments]


def test_no_value_can_add_a_segment_or_an_element(professional: Claim) -> None:
    """Random text (separators, control characters, any script) in every free-text field."""
    base = build_837([professional], InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    alphabet = "~*:^\n\r\t'\"!&-. abcXYZ019ñễ李Ø\x00\x1f" + "".join(sorted(BASIC))
    rng = random.Random(837)
    for _ in range(200):
        noise = ["X" + "".join(rng.choice(alphabet) for _ in range(12)) for _ in range(4)]
        claim = replace(
            _with_names(professional, noise[0], noise[1], city="Y" + noise[2]),
            subscriber=replace(professional.subscriber, member_id="M" + noise[3]),
        )
        text = build_837([claim], InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
        assert _shape(text) == _shape(base), noise
        for segment in split_segments(text)[1][1:]:
            for element in segment:
                assert set(element) <= BASIC - {"~", "^"}, (noise, segment)


def test_the_injection_name_stays_inside_its_element_and_passes_pyx12(
    professional: Claim,
) -> None:
    claim = _with_names(professional, "DOE~NM1*IL*1*EVIL", "JO")
    text = build_837([claim], InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)

    assert validate_x12(text)[0]
    assert text.count("NM1*IL*") == 1 and "EVIL~" not in text
    assert "DOENM1IL1EVIL" in text


def test_a_name_with_nothing_left_is_held_naming_the_element_not_the_value(
    professional: Claim,
) -> None:
    claim = _with_names(professional, "李", "明")
    text = build_837([claim], InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)

    findings = [f for f in scrub(text, [claim]) if f.rule is Rule.X12_ELEMENT]

    assert findings and "NM103" in findings[0].message
    assert all("李" not in f.message for f in findings)


def test_findings_never_quote_phi(professional: Claim) -> None:
    person = professional.patient_person
    broken = replace(
        _with_names(professional, "Zzyzx" * 14, "Quentin"),  # too long for NM103
        statement_from=person.birth_date.replace(year=person.birth_date.year - 1),
        lines=(replace(professional.lines[0], charge=Decimal("10") ** 30),),
        total_charge=Decimal("10") ** 30,
    )
    text = build_837([broken], InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)

    findings = scrub(text, [broken])

    rules = {f.rule for f in findings}
    assert {Rule.X12_ELEMENT, Rule.DATE_ORDER, Rule.LINE_CHARGE} <= rules
    for f in findings:
        born = (str(person.birth_date), person.birth_date.strftime("%Y%m%d"))
        for secret in ("ZZYZX", "Zzyzx", "QUENTIN", *born):
            assert secret not in f.message, f
