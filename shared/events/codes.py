"""Code lines as coders submit them and claims consume them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DiagnosisCode(BaseModel):
    code: str = Field(min_length=3, max_length=8)
    poa: str | None = Field(default=None, pattern="^[YNUW1]$")


class ProcedureCode(BaseModel):
    code: str = Field(min_length=5, max_length=7)
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    units: int = Field(default=1, ge=1)
    dx_pointers: list[int] = Field(default_factory=list, max_length=4)
