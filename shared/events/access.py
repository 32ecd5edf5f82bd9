"""Events about access to PHI: one per read, produced by the service that served it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.events.envelope import EventData
from shared.events.phi import NO_PHI

Role = Literal["admin", "hospital", "vendor_manager", "coder", "auditor"]


class PhiAccessed(EventData):
    """Who read which encounter's PHI, when, where and why; never the PHI itself."""

    event_type = "chartflow.access.phi_read"
    phi_paths = NO_PHI  # ids, roles and routes only

    actor: str = Field(max_length=100)
    role: Role
    actor_org: str | None = Field(default=None, max_length=64)  # the coder's vendor...
    tenant: str | None = Field(default=None, max_length=64)  # the hospital whose PHI it is
    action: str = Field(max_length=60)  # chart.read, claim.x12.read, ...
    encounter_key: str | None = Field(default=None, max_length=140)
    claim_id: str | None = Field(default=None, max_length=64)
    route: str = Field(max_length=200)  # the route template or command: why it was read
    service: str = Field(max_length=30)
    at: datetime
