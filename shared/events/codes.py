"""Code lines as coders submit them and claims consume them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from shared.events.bounds import Units

Modifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2}$")]
# A pointer into the claim's diagnoses: 12 on an 837P, 25 on an 837I.
DiagnosisPointer = Annotated[int, Field(ge=1, le=25)]


class DiagnosisCode(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9. ]{3,8}$")
    poa: str | None = Field(default=None, pattern="^[YNUW1]$")


class ProcedureCode(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9]{5,7}$")
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    units: Units = 1
    dx_pointers: list[DiagnosisPointer] = Field(default_factory=list, max_length=4)
