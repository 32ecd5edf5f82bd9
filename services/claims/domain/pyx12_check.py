"""Validates a whole interchange with pyx12 once and returns its errors by segment position."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import pyx12.params
import pyx12.x12n_document

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


def validate_x12(text: str) -> tuple[bool, list[X12Error]]:
    """Run pyx12 over the whole text (it reloads its maps on each call: batch your claims)."""
    out = io.StringIO()
    previous = _LOGGER.level
    _LOGGER.setLevel(logging.CRITICAL)  # pyx12 logs every error; we return them instead
    try:
        ok = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(text), None, None, fd_json=out
        )
    except Exception as exc:  # pyx12 raises on text it cannot walk at all
        return False, [X12Error("interchange", "", f"pyx12 could not read the file: {exc}", 0)]
    finally:
        _LOGGER.setLevel(previous)
    errors = _flatten(json.loads(out.getvalue() or '{"interchanges": []}'))
    return ok and not errors, errors


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
