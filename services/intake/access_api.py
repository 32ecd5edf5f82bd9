"""The PHI access log over HTTP: admins read all of it, a hospital the records of its own data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.intake.access_db import AccessLog, AccessQuery, AccessRecord
from services.intake.api import CurrentHospital
from shared.events.bounds import IDENTIFIER
from shared.http import AdminOnly, RuntimeDep

router = APIRouter()
MAX_SEQ = 2**31 - 1  # the log's sequence is a 32-bit integer column


class Filters(BaseModel):
    """Query parameters every reader of the log may use; each one optional."""

    model_config = ConfigDict(extra="forbid")

    actor: str | None = Field(default=None, max_length=100, pattern=IDENTIFIER)
    encounter_key: str | None = Field(default=None, max_length=140, pattern=IDENTIFIER)
    action: str | None = Field(default=None, max_length=60, pattern=IDENTIFIER)
    since: datetime | None = Field(default=None, description="records at or after this time")
    until: datetime | None = Field(default=None, description="records before this time")
    after: int = Field(default=0, ge=0, le=MAX_SEQ, description="`next_after` of the previous page")
    limit: int = Field(default=100, ge=1, le=500)

    def query(self, tenant: str | None = None) -> AccessQuery:
        """The repository's query; `tenant` pins a hospital to its own records."""
        fields: dict[str, Any] = {**self.model_dump(), "since": _utc(self.since)}
        fields["until"] = _utc(self.until)
        if tenant is not None:
            fields["tenant"] = tenant
        return AccessQuery(**fields)


class AdminFilters(Filters):
    role: str | None = Field(default=None, max_length=20, pattern=IDENTIFIER)
    tenant: str | None = Field(default=None, max_length=64, pattern=IDENTIFIER)
    claim_id: str | None = Field(default=None, max_length=64, pattern=IDENTIFIER)


class AccessView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    role: str
    actor_org: str | None
    tenant: str | None
    action: str
    encounter_key: str | None
    claim_id: str | None
    route: str
    service: str


class AccessPage(BaseModel):
    records: list[AccessView]
    next_after: int | None  # pass as `after` for the next page; null on the last one

    @classmethod
    def of(cls, rows: list[AccessRecord], limit: int) -> AccessPage:
        records = [AccessView.model_validate(r) for r in rows]
        return cls(records=records, next_after=records[-1].seq if len(rows) == limit else None)


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


async def _page(rt: RuntimeDep, query: AccessQuery) -> AccessPage:
    rows = await rt.db.run(lambda s: AccessLog(s).find(query))
    return AccessPage.of(rows, query.limit)


@router.get("/v1/admin/access-log", dependencies=[AdminOnly])
async def admin_access_log(rt: RuntimeDep, filters: Annotated[AdminFilters, Query()]) -> AccessPage:
    """Every read of PHI on the platform, oldest first, filtered by person, encounter, time."""
    return await _page(rt, filters.query())


@router.get("/v1/access-log")
async def hospital_access_log(
    hospital: CurrentHospital, rt: RuntimeDep, filters: Annotated[Filters, Query()]
) -> AccessPage:
    """Who read the PHI of this hospital's encounters: its own staff, coders, admins."""
    return await _page(rt, filters.query(tenant=hospital.id))
