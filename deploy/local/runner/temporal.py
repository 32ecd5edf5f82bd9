"""Temporal: the CLI's dev server on SQLite, with Chartflow's custom search attributes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

from .config import Config
from .net import check_ports_free, port_open
from .process import spawn
from .report import StackError
from .tools import run

#: Custom search attributes of the Temporal namespace, registered when the dev server starts.
SEARCH_ATTRIBUTES: Mapping[str, str] = MappingProxyType(
    {
        "HospitalId": "Keyword",
        "VendorPool": "Keyword",
        "CodingStatus": "Keyword",
        "SlaDueAt": "Datetime",
        # Physician queries, holds and escalations (the dev server's SQLite visibility store
        # has three Bool and three Datetime columns for custom attributes).
        "QueryPending": "Bool",
        "QueryOpenSince": "Datetime",
        "OnHold": "Bool",
        "Escalated": "Bool",
        "EscalationStatus": "Keyword",
        # The claim the workflow follows after release (no PHI: status, payer, amounts).
        "ClaimStatus": "Keyword",
        "ClaimPayer": "Keyword",
        "ClaimVersion": "Int",
        "ClaimCharge": "Double",
        "ClaimPaid": "Double",
        "DenialCause": "Keyword",
    }
)


def temporal_argv(cfg: Config) -> list[str]:
    argv = [
        str(cfg.temporal_bin),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(cfg.temporal_port),
        "--ui-port",
        str(cfg.temporal_ui_port),
        "--db-filename",
        str(cfg.temporal_db),
        "--namespace",
        "default",
        "--log-format",
        "json",
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--dynamic-config-value",
        "history.transferProcessorMaxPollRPS=1000",
    ]
    for key, kind in SEARCH_ATTRIBUTES.items():
        argv += ["--search-attribute", f"{key}={kind}"]
    return argv


def _temporal_cli(cfg: Config, *args: str, what: str, timeout: float = 15) -> str:
    return run(
        "temporal",
        [str(cfg.temporal_bin), *args, "--address", cfg.temporal_address],
        what=what,
        timeout=timeout,
    )


def temporal_healthy(cfg: Config) -> bool:
    if not port_open(cfg.temporal_port):
        return False
    out = _temporal_cli(cfg, "operator", "cluster", "health", what="cluster health", timeout=5)
    return "SERVING" in out


def missing_search_attributes(custom: Mapping[str, str]) -> dict[str, str]:
    """Which of SEARCH_ATTRIBUTES ``custom`` (name -> INDEXED_VALUE_TYPE_X, as the CLI's JSON
    output gives them) lacks; a name registered with another type is an error."""
    missing = {}
    for key, kind in SEARCH_ATTRIBUTES.items():
        have = custom.get(key)
        if have is None:
            missing[key] = kind
        elif have.upper().removeprefix("INDEXED_VALUE_TYPE_") != kind.upper():
            raise StackError(
                "temporal",
                f"search attribute {key} is registered as {have}, not {kind}; "
                "remove var/temporal/temporal.db to start afresh",
            )
    return missing


def ensure_search_attributes(cfg: Config) -> None:
    """Register any custom search attribute the namespace lacks (normally none: start-dev
    registers them; this covers a server started without the flags)."""

    def search_attribute(verb: str, *args: str, what: str) -> str:
        return _temporal_cli(
            cfg, "operator", "search-attribute", verb, "--namespace", "default", *args, what=what
        )

    out = search_attribute("list", "--output", "json", what="search-attribute list")
    try:
        custom = json.loads(out).get("customAttributes") or {}
    except (ValueError, AttributeError):
        raise StackError("temporal", "could not read `search-attribute list` output", out) from None
    for key, kind in missing_search_attributes(custom).items():
        search_attribute(
            "create", "--name", key, "--type", kind, what=f"search-attribute create {key}"
        )


def start_temporal(cfg: Config) -> int:
    if not cfg.temporal_bin.exists():
        raise StackError(
            "temporal",
            f"no {cfg.rel(cfg.temporal_bin)}; create the venv from requirements.txt "
            "(it installs temporal-bin)",
        )
    check_ports_free(cfg, "temporal")
    cfg.temporal_db.parent.mkdir(parents=True, exist_ok=True)
    return spawn(cfg, "temporal", temporal_argv(cfg))
