"""Inputs and outputs of the EncounterCoding workflow and its activities (no PHI in them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class EncounterCodingInput(BaseModel):
    encounter_key: str
    hospital_id: str
    encounter_class: str
    # Re-route to another pool when an SLA is breached at most this many times.
    max_reassignments: int = 3


class RouteRequest(BaseModel):
    encounter_key: str
    encounter_class: str
    hospital_id: str
    exclude_pools: list[str] = []


class PoolAssignment(BaseModel):
    pool_id: str
    vendor_id: str
    sla_seconds: int


class CodingTaskRequest(BaseModel):
    task_id: str
    encounter_key: str
    pool_id: str
    vendor_id: str
    due_at: datetime


class CodingSubmittedSignal(BaseModel):
    task_id: str
    coder_id: str


class CodingReturnedSignal(BaseModel):
    task_id: str
    coder_id: str


class ReleaseRequest(BaseModel):
    encounter_key: str
    task_id: str


class CodingStatus(BaseModel):
    encounter_key: str
    status: str
    pool_id: str | None = None
    task_id: str | None = None
    due_at: datetime | None = None
    reassignments: int = 0
    history: list[str] = []
