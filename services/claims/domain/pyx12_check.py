"""Validates a whole interchange with pyx12 once and returns its errors by segment position."""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pyx12.params
import pyx12.x12n_document

from .x12 import split_segments

_LOGGER = logging.getLogger("pyx12")


@dataclass(frozen=True)
class X12Error:
    level: str  # interchange, group, transaction, segment, element
    code: str  # pyx12 / X12 error code
    message: str
    position: int  # segment position in the interchange (ISA = 1); 0 when unknown
    seg_id: str = ""
    element: str = ""  # e.g. "CLM05-1"
    value: str = ""
    group_control: str = ""
    transaction_control: str = ""
    st_position: int = 0  # position inside the transaction set (ST = 1), for a 999 IK3


def validate_x12(text: str) -> tuple[bool, list[X12Error]]:
    """Run pyx12 over the whole text (it reloads its maps on each call: batch your claims)."""
    out = io.StringIO()
    capture = _Capture()
    previous, propagate = _LOGGER.level, _LOGGER.propagate
    # pyx12 logs every error, some of which (envelope element errors) its JSON leaves out
    _LOGGER.setLevel(logging.ERROR)
    _LOGGER.propagate = False
    _LOGGER.addHandler(capture)
    try:
        ok = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(text), None, None, fd_json=out
        )
    except Exception as exc:  # pyx12 raises on text it cannot walk at all
        return False, [X12Error("interchange", "", f"pyx12 could not read the file: {exc}", 0)]
    finally:
        _LOGGER.removeHandler(capture)
        _LOGGER.setLevel(previous)
        _LOGGER.propagate = propagate
    errors = _flatten(json.loads(out.getvalue() or '{"interchanges": []}'))
    errors.extend(_unreported(capture.lines, errors, text))
    if not ok and not errors:
        errors.append(X12Error("interchange", "", "pyx12 found the file invalid", 0))
    return ok and not errors, errors


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


_LOG_LINE = re.compile(r"^Line:(\d+) (ISA|GS|ST|SEG|ELE):(\S*) - (.*)$", re.S)
_LEVEL = {
    "ISA": "interchange",
    "GS": "group",
    "ST": "transaction",
    "SEG": "segment",
    "ELE": "element",
}


def _unreported(lines: list[str], known: list[X12Error], text: str) -> list[X12Error]:
    # the log's position for envelope errors differs from the JSON's, so match those by text
    by_position: dict[int, list[str]] = {}
    envelope = set()
    for e in known:
        by_position.setdefault(e.position, []).append(e.message)
        if e.level in ("interchange", "group", "transaction"):
            envelope.add(e.message)
    extra = []
    where: dict[int, tuple[str, str, str, int]] | None = None
    for line in lines:
        m = _LOG_LINE.match(line)
        if not m or m.group(4) in envelope:
            continue
        if any(msg in m.group(4) for msg in by_position.get(int(m.group(1)), [])):
            continue
        if where is None:
            where = _positions(text)
        position = int(m.group(1))
        seg_id, group, st, st_pos = where.get(position, ("", "", "", 0))
        extra.append(
            X12Error(
                _LEVEL[m.group(2)],
                m.group(3),
                m.group(4),
                position,
                seg_id,
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


def _flatten(doc: dict[str, Any]) -> list[X12Error]:
    errors: list[X12Error] = []
    for isa in doc.get("interchanges", []):
        for e in isa["errors"]:
            errors.append(X12Error("interchange", e["err_cde"], e["err_str"], isa["cur_line"]))
        for gs in isa.get("groups", []):
            gctl = str(gs.get("gs_control_num") or "")
            for e in gs["errors"]:
                errors.append(
                    X12Error(
                        "group",
                        e["err_cde"],
                        e["err_str"],
                        gs["cur_line"],
                        "GS",
                        group_control=gctl,
                    )
                )
            for st in gs.get("transactions", []):
                sctl = str(st.get("trn_set_control_num") or "")
                for e in st["errors"]:
                    errors.append(
                        X12Error(
                            "transaction",
                            e["err_cde"],
                            e["err_str"],
                            st["cur_line"],
                            "ST",
                            group_control=gctl,
                            transaction_control=sctl,
                        )
                    )
                for seg in st.get("segments", []):
                    base = dict(
                        position=seg["cur_line"],
                        seg_id=seg["seg_id"],
                        group_control=gctl,
                        transaction_control=sctl,
                        st_position=int(seg.get("seg_count") or 0),
                    )
                    for e in seg["errors"]:
                        errors.append(
                            X12Error(
                                "segment",
                                e["err_cde"],
                                e["err_str"],
                                value=str(e.get("err_val") or ""),
                                **base,
                            )
                        )
                    for ele in seg.get("elements", []):
                        name = f"{seg['seg_id']}{int(ele['ele_pos']):02d}"
                        if ele.get("subele_pos"):
                            name += f"-{ele['subele_pos']}"
                        for e in ele["errors"]:
                            errors.append(
                                X12Error(
                                    "element",
                                    e["err_cde"],
                                    e["err_str"],
                                    element=name,
                                    value=str(e.get("err_val") or ""),
                                    **base,
                                )
                            )
    return errors
