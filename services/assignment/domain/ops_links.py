"""Temporal UI lists behind the ops page's figures: visibility list filters over the
EncounterCoding workflows' search attributes, and the UI's URLs for them."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from services.assignment.domain.ops_figures import BILLED
from services.assignment.saved_views import saved_views

ENCOUNTERS = "WorkflowType = 'EncounterCoding'"
#: Coding is over and the codes went to claims (the claim_* ones: the workflow followed the
#: claim to its final outcome).
CODED_STATUSES = (
    "coded",
    "released",
    "claim_paid",
    "claim_partially_paid",
    "claim_denied",
    "claim_rejected",
    "claim_held",
    "claim_submission_failed",
    "claim_voided",
)
#: A coding task is open with the pool.
WITH_POOL = (
    "assigned",
    "rework_assigned",
    "query_pending",
    "on_hold",
    "sla_breached",
    "escalated",
)


def _among(values: tuple[str, ...] | frozenset[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def ops_queries(now: datetime, pools: list[str]) -> dict[str, str]:
    """The list filter behind each figure, by the figure's name (`pool:<id>` per pool)."""
    views = saved_views(now)
    queries = {
        # Not billed and neither returned nor cancelled (the claim status is the newest
        # version's: a corrected claim being built shows here again).
        "dnfb": f"{ENCOUNTERS} AND CodingStatus NOT IN ('returned', 'cancelled') AND "
        f"(ClaimStatus IS NULL OR ClaimStatus NOT IN {_among(BILLED)})",
        "waiting": f"{ENCOUNTERS} AND ExecutionStatus = 'Running' "
        "AND CodingStatus = 'waiting_for_pool'",
        "coded": f"{ENCOUNTERS} AND CodingStatus IN {_among(CODED_STATUSES)}",
        "billed": f"{ENCOUNTERS} AND ClaimStatus IN {_among(BILLED)}",
        "past_sla": views["past its SLA, clock running"],
        "escalations_open": f"{ENCOUNTERS} AND EscalationStatus = 'open'",
        "escalated": f"{ENCOUNTERS} AND Escalated = true",
    }
    for pool in pools:
        queries[f"pool:{pool}"] = (
            f"{ENCOUNTERS} AND ExecutionStatus = 'Running' AND VendorPool = '{pool}' "
            f"AND CodingStatus IN {_among(WITH_POOL)}"
        )
    return queries


def scoped(query: str, workflow_id_prefix: str) -> str:
    """Only the workflows of one namespace prefix (test runs sharing a server); as is when
    there is none."""
    if not workflow_id_prefix:
        return query
    return f"({query}) AND WorkflowId STARTS_WITH '{workflow_id_prefix}'"


def list_url(ui_url: str, namespace: str, query: str) -> str:
    """The Temporal UI's Workflows page filtered by `query`."""
    return f"{ui_url.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows?query=" + quote(
        query, safe=""
    )


def workflow_url(ui_url: str, namespace: str, workflow_id: str) -> str:
    """The Temporal UI's list holding just this workflow (every run of it)."""
    return list_url(ui_url, namespace, f"WorkflowId = '{workflow_id}'")
