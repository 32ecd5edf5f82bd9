"""Bounds every edge enforces, so a value that passes intake can always be coded and billed.

The X12 837 carries a quantity (element 380, SV104 / SV205) as a decimal of up to 15 digits
and an amount (element 782, SV102 / SV203 / CLM02) as a decimal of up to 18. Realistic bounds
are far lower and keep every product of them inside both: at most 9,999 units on a line,
charges in cents up to 9,999,999.99 a line and 99,999,999.99 a claim. Dates run from
1900-01-01 to today (UTC) plus one day of clock skew; ages from 0 to 150.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_UNITS = 9_999
MAX_LINE_CHARGE = Decimal("9999999.99")
MAX_CLAIM_TOTAL = Decimal("99999999.99")
MAX_AGE = 150
EARLIEST_DATE = date(1900, 1, 1)
CLOCK_SKEW = timedelta(days=1)
CENTS = Decimal("0.01")

# No control characters, and none of the X12 separators (~ * : ^) nor | and \ that other
# formats use: a name or an address line can never add a segment or an element.
_PLAIN = r"\x00-\x1F\x7F~*:^|\\"
PLAIN_TEXT = rf"^[^{_PLAIN}]*[^\s{_PLAIN}][^{_PLAIN}]*$"  # and not blank
# Clinical notes keep tabs and line breaks.
NOTE_TEXT = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
IDENTIFIER = r"^[A-Za-z0-9._:-]+$"


def _real_date(day: date) -> date:
    latest = datetime.now(UTC).date() + CLOCK_SKEW
    if day < EARLIEST_DATE:
        raise PydanticCustomError("date_too_early", "must not be before 1900-01-01")
    if day > latest:
        raise PydanticCustomError("date_in_future", "must not be in the future")
    return day


#: A date that happened: from 1900-01-01 to today plus one day of clock skew.
PastDate = Annotated[
    date,
    AfterValidator(_real_date),
    Field(description="From 1900-01-01 to today (UTC) plus one day of clock skew."),
]
Units = Annotated[
    int,
    Field(ge=1, le=MAX_UNITS, description=f"Whole units, 1 to {MAX_UNITS:,}."),
]
LineCharge = Annotated[
    Decimal,
    Field(
        gt=0,
        le=MAX_LINE_CHARGE,
        max_digits=9,
        decimal_places=2,
        description=f"Dollars and cents, up to {MAX_LINE_CHARGE:,}.",
    ),
]
PlainName = Annotated[str, Field(pattern=PLAIN_TEXT)]
#: A vendor pool, hospital or vendor id.
PoolId = Annotated[str, Field(pattern=r"^[a-z0-9-]{2,64}$")]
#: A coder credential, e.g. CPC, CCS, CCS-P, COC.
Credential = Annotated[str, Field(pattern=r"^[A-Z0-9-]{2,10}$")]


def age_on(birth: date, on: date) -> int:
    """Whole years of age on a day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def out_of_order(field: str, message: str) -> PydanticCustomError:
    """A cross-field error whose `ctx.field` names the field (problem+json and DLQ use it)."""
    return PydanticCustomError("date_order", "{field} " + message, {"field": field})


def line_charge(chargemaster_charge: Decimal, chargemaster_units: int, units: int) -> Decimal:
    """What a coded line bills: the chargemaster's rate for its units, times the coded units."""
    price = chargemaster_charge * units / chargemaster_units
    return price.quantize(CENTS, ROUND_HALF_UP)
