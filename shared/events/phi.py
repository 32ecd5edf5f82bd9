"""Which event fields are PHI, and how they travel: encrypted field by field, with a key id.

Every event type declares `phi_paths` (path -> key scope) from the constants here, so this is
the one place that says what is PHI on the wire. A path names a field of the payload's JSON
(`coverage.member_id`), `*` every item of a list (`documents.*.text`). On the way out
(`Envelope.wrap`) each such value becomes `{"kid": ..., "ct": <fernet token>}`; keys, ids,
statuses and codes stay readable for routing and operations. `Envelope.payload` opens them
with the keys the service holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from shared.crypto import CLINICAL, IDENTITY, is_sealed, keyring, open_sealed, seal

PhiPaths = Mapping[str, str]

#: An encounter document: who the patient (and subscriber) is, and what happened to them.
ENCOUNTER_PHI: PhiPaths = {
    "patient": IDENTITY,
    "coverage.member_id": IDENTITY,
    "coverage.subscriber": IDENTITY,
    "service_date": CLINICAL,
    "discharge_date": CLINICAL,
    "documents.*.text": CLINICAL,
    "charges": CLINICAL,
}

#: The coder's chart: no identity at all, and its clinical part sealed for the coders' keys.
CHART_PHI: PhiPaths = {
    "patient": CLINICAL,
    "service_date": CLINICAL,
    "discharge_date": CLINICAL,
    "documents.*.text": CLINICAL,
    "charges": CLINICAL,
}

#: A claim's money and the payer's words about it, tied to one patient's encounter.
CLAIM_STATUS_PHI: PhiPaths = {
    "total_charge": CLINICAL,
    "paid": CLINICAL,
    "reason": CLINICAL,
    "findings.*.message": CLINICAL,
    "triage.*.amount": CLINICAL,
}

#: A coder's free-text note when returning an encounter: it may name what the chart says.
RETURN_NOTE_PHI: PhiPaths = {"note": CLINICAL}

#: A physician query quotes the chart: its question, its options and its clinical indicators.
QUERY_PHI: PhiPaths = {
    "content.question": CLINICAL,
    "content.options.*.text": CLINICAL,
    "content.indicators.*.quote": CLINICAL,
}

#: The physician's answer to a query: the choice made and their own words.
QUERY_ANSWER_PHI: PhiPaths = {"answer.choice": CLINICAL, "answer.text": CLINICAL}

#: An operator's free-text reason (a cancellation, a hold): it may name what the chart says.
OPS_REASON_PHI: PhiPaths = {"reason": CLINICAL}

NO_PHI: PhiPaths = {}


def under(prefix: str, paths: PhiPaths) -> PhiPaths:
    """`paths` of a document nested at `prefix` in a payload."""
    return {f"{prefix}.{path}": scope for path, scope in paths.items()}


def _at(node: Any, parts: list[str], change: Callable[[Any], Any]) -> Any:
    if not parts:
        return change(node)
    head, rest = parts[0], parts[1:]
    if head == "*":
        return [_at(item, rest, change) for item in node] if isinstance(node, list) else node
    if isinstance(node, dict) and head in node:
        return {**node, head: _at(node[head], rest, change)}
    return node


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _sealer(scope: str) -> Callable[[Any], Any]:
    def sealed(value: Any) -> Any:
        return value if value is None else seal(scope, value, _dump)

    return sealed


def _opened(value: Any) -> Any:
    return json.loads(open_sealed(value)) if is_sealed(value) else value


def seal_paths(data: dict[str, Any], paths: PhiPaths) -> dict[str, Any]:
    """`data` with the value at each PHI path encrypted (absent or null values stay as they are)."""
    for path, scope in paths.items():
        data = _at(data, path.split("."), _sealer(scope))
    return data


def open_paths(data: dict[str, Any], paths: PhiPaths) -> dict[str, Any]:
    """`data` with the sealed value at each PHI path decrypted."""
    for path in paths:
        data = _at(data, path.split("."), _opened)
    return data


def reseal(node: Any) -> Any:
    """Every sealed value, wherever it is, re-encrypted under the newest key of its scope."""
    if is_sealed(node):
        scope = node["kid"].split(".")[0]
        if node["kid"] == keyring().newest(scope):
            return node
        return seal(scope, json.loads(open_sealed(node)), _dump)
    if isinstance(node, dict):
        return {k: reseal(v) for k, v in node.items()}
    if isinstance(node, list):
        return [reseal(v) for v in node]
    return node
