"""Admins set a pool's audit sampling policy, and a hospital contract's replacement for it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from services.assignment.audit_db import AuditRecords
from services.assignment.db import VendorPool
from services.assignment.domain.sampling import SamplingPolicy
from shared.http import AdminOnly, IdPath, RuntimeDep

router = APIRouter()
HospitalQuery = Annotated[
    str | None,
    Query(pattern=r"^[a-z0-9-]{2,64}$", description="The contract's hospital; none: the pool's"),
]


class PolicyView(BaseModel):
    pool_id: str
    hospital_id: str | None
    source: str  # contract | pool | none: where the policy in force comes from
    policy: SamplingPolicy | None  # none: the pool's encounters are not sampled


@router.put("/v1/admin/pools/{pool_id}/audit-policy", dependencies=[AdminOnly])
async def put_audit_policy(
    pool_id: IdPath, body: SamplingPolicy, rt: RuntimeDep, hospital_id: HospitalQuery = None
) -> PolicyView:
    """Set the pool's sampling policy, or with `hospital_id` the one that replaces it for
    that hospital's encounters (its contract)."""

    def put(session: Any) -> None:
        if session.get(VendorPool, pool_id) is None:
            raise HTTPException(404, f"no pool {pool_id}")
        AuditRecords(session).put(pool_id, hospital_id or "", body)

    await rt.db.run(put)
    source = "contract" if hospital_id else "pool"
    return PolicyView(pool_id=pool_id, hospital_id=hospital_id, source=source, policy=body)


@router.get("/v1/admin/pools/{pool_id}/audit-policy", dependencies=[AdminOnly])
async def get_audit_policy(
    pool_id: IdPath, rt: RuntimeDep, hospital_id: HospitalQuery = None
) -> PolicyView:
    """The policy in force for the pool (and hospital): the contract's, the pool's or none
    (nothing sampled), and which."""

    def read(session: Any) -> PolicyView:
        if session.get(VendorPool, pool_id) is None:
            raise HTTPException(404, f"no pool {pool_id}")
        policy, source = AuditRecords(session).effective(pool_id, hospital_id or "")
        return PolicyView(pool_id=pool_id, hospital_id=hospital_id, source=source, policy=policy)

    return await rt.db.run(read)
