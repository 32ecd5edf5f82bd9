"""Routing rules: credential, encounter class, contract and capacity decide the pool."""

from __future__ import annotations

from dataclasses import replace

from services.assignment.domain.routing import PoolProfile, route_to_pool

PRO = PoolProfile(
    pool_id="pro",
    vendor_id="v1",
    credentials=frozenset({"CPC"}),
    encounter_classes=frozenset({"professional"}),
    hospitals=frozenset(),
    capacity=10,
    open_tasks=0,
    sla_seconds=86_400,
)
FACILITY = replace(
    PRO,
    pool_id="facility",
    credentials=frozenset({"CCS"}),
    encounter_classes=frozenset({"inpatient", "outpatient", "emergency"}),
)


def test_inpatient_goes_to_a_ccs_pool_and_professional_to_a_cpc_pool() -> None:
    pools = [PRO, FACILITY]
    assert route_to_pool(pools, "inpatient", "h1") == FACILITY
    assert route_to_pool(pools, "professional", "h1") == PRO


def test_a_pool_without_the_required_credential_is_never_chosen() -> None:
    coc_only = replace(FACILITY, credentials=frozenset({"COC"}))
    assert route_to_pool([coc_only], "inpatient", "h1") is None
    assert route_to_pool([coc_only], "outpatient", "h1") == coc_only


def test_contracts_capacity_and_exclusions_are_respected() -> None:
    other_hospital = replace(PRO, pool_id="a", hospitals=frozenset({"h2"}))
    full = replace(PRO, pool_id="b", open_tasks=10)
    busy = replace(PRO, pool_id="c", open_tasks=8)
    free = replace(PRO, pool_id="d", open_tasks=1)
    pools = [other_hospital, full, busy, free]

    assert route_to_pool(pools, "professional", "h1") == free
    assert route_to_pool(pools, "professional", "h1", exclude=["d"]) == busy
    assert route_to_pool(pools, "professional", "h2") == other_hospital


def test_a_pool_with_encounters_in_its_backlog_takes_no_newcomer_before_them() -> None:
    assert route_to_pool([replace(PRO, open_tasks=3, waiting=2)], "professional", "h1") is None
    assert route_to_pool([replace(PRO, open_tasks=3)], "professional", "h1") == replace(
        PRO, open_tasks=3
    )
