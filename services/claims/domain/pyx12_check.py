"""Validates a whole interchange with pyx12 once and returns its errors by segment position.

Safe to call from many threads or tasks at once, and cheap after the first call: see
`pyx12_engine`. Messages are worded from X12 error codes and never quote a value; the value
pyx12 found is kept apart in `X12Error.value` (a 999 IK404 copies it) and must not be stored
in plaintext or announced.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .pyx12_engine import LoggedError, run_pyx12
from .x12 import split_segments
from .x12_error_codes import describe


@dataclass(frozen=True)
class X12Error:
    level: str  # interchange, group, transaction, segment, element
    code: str  # pyx12 / X12 error code
    message: str  # what is wrong, from the code: never the value
    position: int  # segment position in the interchange (ISA = 1); 0 when unknown
    seg_id: str = ""
    element: str = ""  # e.g. "CLM05-1"
    value: str = ""  # the offending value as pyx12 read it: PHI, keep it out of findings
    group_control: str = ""
    transaction_control: str = ""
    st_position: int = 0  # position inside the transaction set (ST = 1), for a 999 IK3


_RECENT: OrderedDict[str, tuple[bool, list[X12Error]]] = OrderedDict()
_RECENT_LOCK = threading.Lock()
_RECENT_SIZE = 16


def validate_x12(text: str) -> tuple[bool, list[X12Error]]:
    """pyx12's verdict on the whole text and its errors.

    The last few verdicts are remembered by the text's SHA-256: an in-process payer (the
    simulator) reading the very bytes the scrubber just validated gets the same verdict
    without a second pyx12 walk.
    """
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    with _RECENT_LOCK:
        if key in _RECENT:
            _RECENT.move_to_end(key)
            ok, errors = _RECENT[key]
            return ok, list(errors)
    ok, errors = _validate(text)
    with _RECENT_LOCK:
        _RECENT[key] = (ok, errors)
        while len(_RECENT) > _RECENT_SIZE:
            _RECENT.popitem(last=False)
    return ok, list(errors)


def _validate(text: str) -> tuple[bool, list[X12Error]]:
    try:
        run = run_pyx12(text)
    except Exception as exc:  # pyx12 raises on text it cannot walk at all
        message = f"pyx12 could not read the file ({type(exc).__name__})"
        return False, [X12Error("interchange", "", message, 0)]
    if run.valid:
        return True, []
    flat = _flatten(run.report)
    errors = [e for e, _ in flat]
    errors.extend(_unreported(run.logged, flat, text))
    if not errors:
        errors.append(X12Error("interchange", "", "pyx12 found the file invalid", 0))
    return False, errors


_LEVEL = {
    "ISA": "interchange",
    "GS": "group",
    "ST": "transaction",
    "SEG": "segment",
    "ELE": "element",
}


def _unreported(
    logged: list[LoggedError], known: list[tuple[X12Error, str]], text: str
) -> list[X12Error]:
    """Errors pyx12 keeps out of its JSON (envelope element errors), from what it logged."""
    # the logged position for envelope errors differs from the JSON's, so match those by text
    by_position: dict[int, list[str]] = {}
    envelope = set()
    for e, raw in known:
        by_position.setdefault(e.position, []).append(raw)
        if e.level in ("interchange", "group", "transaction"):
            envelope.add(raw)
    extra = []
    where: dict[int, tuple[str, str, str, int]] | None = None
    for item in logged:
        if item.kind not in _LEVEL or item.message in envelope:
            continue
        if any(raw in item.message for raw in by_position.get(item.line, [])):
            continue
        if where is None:
            where = _positions(text)
        seg_id, group, st, st_pos = where.get(item.line, ("", "", "", 0))
        level = _LEVEL[item.kind]
        extra.append(
            X12Error(
                level,
                item.code,
                describe(level, item.code),
                item.line,
                seg_id,
                element=item.refdes,
                group_control=group,
                transaction_control=st,
                st_position=st_pos,
            )
        )
    return extra


def _positions(text: str) -> dict[int, tuple[str, str, str, int]]:
    _, segments = split_segments(text)
    out = {}
    group = st = ""
    st_start = 0
    for n, el in enumerate(segments, start=1):
        if el[0] == "GS":
            group = el[6] if len(el) > 6 else ""
        elif el[0] == "ST":
            st, st_start = (el[2] if len(el) > 2 else ""), n
        out[n] = (el[0], group, st, n - st_start + 1 if st_start else 0)
    return out


def _error(level: str, e: dict[str, Any], position: int, **where: Any) -> tuple[X12Error, str]:
    """An X12Error worded from its code, with pyx12's own text beside it (for matching only)."""
    code = str(e["err_cde"])
    value = str(e.get("err_val") or e.get("bad_value") or "")
    return X12Error(level, code, describe(level, code), position, value=value, **where), str(
        e["err_str"]
    )


def _flatten(doc: dict[str, Any]) -> list[tuple[X12Error, str]]:
    errors: list[tuple[X12Error, str]] = []
    for isa in doc.get("interchanges", []):
        for e in isa["errors"]:
            errors.append(_error("interchange", e, isa["cur_line"]))
        for gs in isa.get("groups", []):
            gctl = str(gs.get("gs_control_num") or "")
            for e in gs["errors"]:
                errors.append(_error("group", e, gs["cur_line"], seg_id="GS", group_control=gctl))
            for st in gs.get("transactions", []):
                sctl = str(st.get("trn_set_control_num") or "")
                for e in st["errors"]:
                    errors.append(
                        _error(
                            "transaction",
                            e,
                            st["cur_line"],
                            seg_id="ST",
                            group_control=gctl,
                            transaction_control=sctl,
                        )
                    )
                for seg in st.get("segments", []):
                    base = dict(
                        seg_id=seg["seg_id"],
                        group_control=gctl,
                        transaction_control=sctl,
                        st_position=int(seg.get("seg_count") or 0),
                    )
                    for e in seg["errors"]:
                        errors.append(_error("segment", e, seg["cur_line"], **base))
                    for ele in seg.get("elements", []):
                        name = f"{seg['seg_id']}{int(ele['ele_pos']):02d}"
                        if ele.get("subele_pos"):
                            name += f"-{ele['subele_pos']}"
                        for e in ele["errors"]:
                            errors.append(
                                _error("element", e, seg["cur_line"], element=name, **base)
                            )
    return errors
