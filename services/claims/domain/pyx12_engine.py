"""pyx12's validation walk with its XML maps parsed once per process and errors kept per call.

`pyx12.x12n_document` parses its maps on every call (~0.3 s) and reports some errors only
through the global ``pyx12`` logger, which callers had to capture: neither is safe nor fast
when several interchanges are validated at once. This walk is the same as
`x12n_document`'s (pyx12 4.0.0) without the HTML/XML/997 outputs; the maps are shared
read-only (their nodes hold no per-walk state: counts live in each walk's `walk_tree`) and
every error lands in this call's own `CallErrors`, never in a logger.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from typing import Any

import pyx12.errh_json
import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.x12file
from pyx12.map_if._segment import apply_segment_errors
from pyx12.map_walker import apply_walk_errors, walk_tree

_PARAMS = pyx12.params.params()
_LOCK = threading.Lock()
_MAPS: dict[str, pyx12.map_if.map_if] = {}
_INDEX: list[pyx12.map_index.map_index] = []


def _map(name: str) -> pyx12.map_if.map_if:
    found = _MAPS.get(name)
    if found is None:
        with _LOCK:
            found = _MAPS.get(name)
            if found is None:
                found = _MAPS[name] = pyx12.map_if.load_map_file(name, _PARAMS)
    return found


def _map_index() -> pyx12.map_index.map_index:
    if not _INDEX:
        with _LOCK:
            if not _INDEX:
                _INDEX.append(pyx12.map_index.map_index())
    return _INDEX[0]


@dataclass(frozen=True)
class LoggedError:
    """What pyx12 would have logged: the file line, its level (ISA/GS/ST/SEG/ELE) and text."""

    line: int
    kind: str
    code: str
    message: str
    refdes: str = ""


class CallErrors(pyx12.error_handler.err_handler):
    """pyx12's error tree for one call; what its methods log is kept here instead."""

    def __init__(self) -> None:
        super().__init__()
        self.logged: list[LoggedError] = []

    def isa_error(self, err_cde: str, err_str: str) -> None:
        self.logged.append(LoggedError(self.cur_isa_node.get_cur_line(), "ISA", err_cde, err_str))
        self.cur_isa_node.add_error(err_cde, err_str)

    def gs_error(self, err_cde: str, err_str: str) -> None:
        self.logged.append(LoggedError(self.cur_gs_node.get_cur_line(), "GS", err_cde, err_str))
        self.cur_gs_node.add_error(err_cde, err_str)

    def st_error(self, err_cde: str, err_str: str) -> None:
        self.logged.append(LoggedError(self.cur_st_node.get_cur_line(), "ST", err_cde, err_str))
        self.cur_st_node.add_error(err_cde, err_str)

    def seg_error(
        self,
        err_cde: str,
        err_str: str,
        err_value: str | None = None,
        src_line: int | None = None,
    ) -> None:
        try:
            self._add_cur_seg()
            self.cur_seg_node.add_error(err_cde, err_str, err_value)
        except Exception:
            return  # pyx12 keeps no such error either (it logs it without a line)
        line = src_line or (self.cur_seg_node.get_cur_line() if self.cur_seg_node else 0)
        message = f"{err_str} ({err_value})" if err_value else err_str
        self.logged.append(LoggedError(line, "SEG", err_cde, message))

    def ele_error(
        self, err_cde: str, err_str: str, bad_value: str | None, refdes: str | None = None
    ) -> None:
        self._add_cur_ele()
        self.cur_ele_node.add_error(err_cde, err_str, bad_value)
        message = f"{err_str} ({bad_value})" if bad_value else err_str
        line = self.cur_seg_node.get_cur_line()
        self.logged.append(LoggedError(line, "ELE", err_cde, message, refdes or ""))


@dataclass
class Pyx12Run:
    valid: bool
    report: dict[str, Any]  # pyx12's JSON error document; empty when there is no error
    logged: list[LoggedError]


def run_pyx12(text: str) -> Pyx12Run:
    """Validate one interchange; raises what pyx12 raises on text it cannot walk."""
    errh = CallErrors()
    try:
        src = pyx12.x12file.X12Reader(io.StringIO(text))
    except pyx12.errors.X12Error:
        return Pyx12Run(False, {}, [])  # not X12 at all: nothing to point at
    try:
        valid = _walk(src, errh)
    finally:
        src.close()
    if valid and not errh.logged and errh.get_error_count() == 0:
        return Pyx12Run(True, {}, [])
    out = io.StringIO()
    errh.accept(pyx12.errh_json.errh_json_visitor(out))
    return Pyx12Run(False, json.loads(out.getvalue() or "{}"), errh.logged)


def _walk(src: pyx12.x12file.X12Reader, errh: CallErrors) -> bool:
    map_file = "x12.control.00501.xml" if src.icvn == "00501" else "x12.control.00401.xml"
    control_map = _map(map_file)
    node: Any = control_map.getnodebypath("/ISA_LOOP/ISA")
    walker = walk_tree()
    icvn: str | None = None
    vriic: str | None = None
    valid = True
    for seg in src:
        seg_id = seg.get_seg_id()
        orig_node = node
        if seg_id == "ISA":
            node = control_map.getnodebypath("/ISA_LOOP/ISA")
            walker.forceWalkCounterToLoopStart("/ISA_LOOP", "/ISA_LOOP/ISA")
        elif seg_id == "GS":
            node = control_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
            walker.forceWalkCounterToLoopStart("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
        else:
            node, _, _, walk_errors = walker.walk_errors(
                node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id()
            )
            apply_walk_errors(errh, walk_errors)
        if node is None:
            node = orig_node
            continue
        if seg_id == "ISA":
            errh.add_isa_loop(seg, src)
            icvn = seg.get_value("ISA12")
            errh.handle_errors(src.pop_errors())
        elif seg_id == "IEA":
            errh.handle_errors(src.pop_errors())
            errh.close_isa_loop(node, seg, src)
        elif seg_id == "GS":
            fic, vriic = seg.get_value("GS01"), seg.get_value("GS08")
            map_file_new = _map_index().get_filename(icvn, vriic, fic)
            if map_file != map_file_new:
                if map_file_new is None:
                    raise pyx12.errors.EngineError(
                        f"Map not found.  icvn={icvn}, fic={fic}, vriic={vriic}"
                    )
                map_file = map_file_new
                src.check_837_lx = _map(map_file).id == "837"
            node = _map(map_file).getnodebypath("/ISA_LOOP/GS_LOOP/GS")
            errh.add_gs_loop(seg, src)
            errh.handle_errors(src.pop_errors())
        elif seg_id == "GE":
            errh.handle_errors(src.pop_errors())
            errh.close_gs_loop(node, seg, src)
        elif seg_id == "ST":
            errh.add_st_loop(seg, src)
            errh.handle_errors(src.pop_errors())
        elif seg_id == "SE":
            errh.handle_errors(src.pop_errors())
            errh.close_st_loop(node, seg, src)
        else:
            # 004010X094 (278) picks its map by BHT02: not a transaction this service reads.
            errh.add_seg(node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
            errh.handle_errors(src.pop_errors())
        valid &= apply_segment_errors(node, seg, errh)
    src.cleanup()  # loop trailers the file skipped
    errh.handle_errors(src.pop_errors())
    return valid
