"""The ceiling: pyx12's own validator over one file, its XML maps loaded once beforehand."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyx12.map_if
import pyx12.params
import pyx12.x12n_document


@contextmanager
def maps_loaded_once() -> Iterator[None]:
    """Within the block, pyx12 reuses each map it has parsed (the bench's ceiling only)."""
    original: Callable[..., Any] = pyx12.map_if.load_map_file
    cache: dict[str, Any] = {}

    def cached(map_file: str, param: Any, map_path: str | None = None) -> Any:
        if map_file not in cache:
            cache[map_file] = original(map_file, param, map_path)
        return cache[map_file]

    pyx12.map_if.load_map_file = cached
    try:
        yield
    finally:
        pyx12.map_if.load_map_file = original


def pyx12_once(text: str) -> bool:
    valid: bool = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), None, None, fd_json=io.StringIO()
    )
    return valid


@dataclass(frozen=True)
class Ceiling:
    seconds: float
    cpu_seconds: float
    valid: bool


def pyx12_seconds(text: str) -> Ceiling:
    """Wall and CPU seconds pyx12 takes over `text`, its maps already in memory."""
    with maps_loaded_once():
        pyx12_once(text)  # loads the maps
        started, cpu = time.perf_counter(), time.process_time()
        valid = pyx12_once(text)
        return Ceiling(time.perf_counter() - started, time.process_time() - cpu, valid)
