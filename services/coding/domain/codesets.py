"""Optional code tables an administrator installs from public CMS files.

ICD-10-PCS, HCPCS Level II and the POA-exempt list are published by CMS each year. Once a table
is installed, codes are checked against it; without it, only their format is checked.

Accepted inputs, as published:
- ICD-10-PCS "icd10pcs_codes_YYYY.txt": code in columns 1-7, a space, the description.
- ICD-10-PCS order file "icd10pcs_order_YYYY.txt": order number (1-5), code (7-13),
  header flag (15: 1 = valid for submission), short description (17-76), long (78-).
- HCPCS annual alpha-numeric file "HCPC20xx_..._ANWEB...txt" (fixed-width record layout):
  code (1-5), sequence number (6-10), record id (11: 3 = procedure, 4 = its continuation,
  7 = modifier, 8 = its continuation), long description (12-91), short description (92-119),
  ..., termination date (285-292).
- POA exempt list "POAexemptCodesFYxx.txt": tab-delimited order, code, description.

Installed tables are compact text files under the code-set directory (default `var/codesets`).
CPT is AMA-licensed: nothing here stores a CPT code's description, and HCPCS lines shaped like a
CPT code are skipped.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_CODESET_DIR = Path(__file__).resolve().parents[3] / "var" / "codesets"
MANIFEST = "manifest.json"
PCS_TABLE = "icd10pcs.tsv"
HCPCS_TABLE = "hcpcs.tsv"
HCPCS_MODIFIERS = "hcpcs_modifiers.txt"
POA_EXEMPT = "poa_exempt.txt"

PCS_CODE = re.compile(r"[0-9A-HJ-NP-Z]{7}")
HCPCS_CODE = re.compile(r"[A-Z][0-9]{4}")
_CPT_SHAPED = re.compile(r"[0-9]{4}[0-9FTU]")
_ICD10CM_CODE = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?")


class CodesetFormatError(ValueError):
    """A source file is not in the published layout; the message names the line."""


@dataclass(frozen=True, slots=True)
class CodeTables:
    """Installed tables; None means "not installed", so checks fall back to format only."""

    pcs: frozenset[str] | None = None
    hcpcs: frozenset[str] | None = None
    hcpcs_modifiers: frozenset[str] | None = None
    poa_exempt: frozenset[str] | None = None


NO_TABLES = CodeTables()


def parse_pcs(lines: Iterable[str], source: str = "ICD-10-PCS file") -> dict[str, str]:
    """Valid ICD-10-PCS codes and their descriptions, from the codes file or the order file."""
    codes: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line[:5].isdigit() and line[5:6] == " ":  # order file
            code, header_flag = line[6:13], line[14:15]
            text = line[77:].strip() or line[16:76].strip()
            if header_flag not in ("0", "1"):
                raise CodesetFormatError(f"{source} line {number}: header flag must be 0 or 1")
            if header_flag == "0":
                continue  # a header, not valid for submission
        else:
            code, text = line[:7], line[8:].strip()
            if line[7:8].strip():
                raise CodesetFormatError(f"{source} line {number}: expected a space after the code")
        if not PCS_CODE.fullmatch(code):
            raise CodesetFormatError(f"{source} line {number}: {code!r} is not an ICD-10-PCS code")
        codes[code] = text
    if not codes:
        raise CodesetFormatError(f"{source}: no ICD-10-PCS codes found")
    return codes


def parse_hcpcs(
    lines: Iterable[str], source: str = "HCPCS file"
) -> tuple[dict[str, str], set[str], int]:
    """(active Level II codes -> long description, modifier codes, terminated codes skipped)."""
    codes: dict[str, str] = {}
    modifiers: set[str] = set()
    terminated: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if len(line) < 12:
            raise CodesetFormatError(f"{source} line {number}: shorter than the record layout")
        code, record_id, text = line[0:5].strip(), line[10], line[11:91].strip()
        if record_id == "3":
            if _CPT_SHAPED.fullmatch(code):
                continue  # Level I (CPT): never keep its AMA description
            if not HCPCS_CODE.fullmatch(code):
                raise CodesetFormatError(f"{source} line {number}: {code!r} is not a HCPCS code")
            if line[284:292].strip():
                terminated.add(code)
            else:
                codes[code] = text
        elif record_id == "4":
            if code in codes:
                codes[code] = f"{codes[code]} {text}".strip()
        elif record_id == "7":
            if not re.fullmatch(r"[A-Z0-9]{2}", code):
                raise CodesetFormatError(f"{source} line {number}: {code!r} is not a modifier")
            modifiers.add(code)
        elif record_id != "8":
            raise CodesetFormatError(
                f"{source} line {number}: record id {record_id!r} is not 3, 4, 7 or 8"
            )
    if not codes:
        raise CodesetFormatError(f"{source}: no HCPCS Level II codes found")
    return codes, modifiers, len(terminated)


def parse_poa_exempt(lines: Iterable[str], source: str = "POA exempt file") -> set[str]:
    """ICD-10-CM codes (dotted) from the CMS POA-exempt list (tab-delimited, header line)."""
    codes: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        fields = raw.rstrip("\r\n").split("\t")
        if len(fields) < 2 or not fields[0].strip().isdigit():
            if number == 1 or not raw.strip():
                continue  # header line or blank
            raise CodesetFormatError(f"{source} line {number}: expected order<TAB>code<TAB>title")
        code = fields[1].strip().upper()
        if not _ICD10CM_CODE.fullmatch(code):
            raise CodesetFormatError(f"{source} line {number}: {code!r} is not ICD-10-CM")
        bare = code.replace(".", "")
        codes.add(bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}")
    if not codes:
        raise CodesetFormatError(f"{source}: no codes found")
    return codes


def install(
    data_dir: Path,
    *,
    pcs: Path | None = None,
    hcpcs: Path | None = None,
    poa_exempt: Path | None = None,
) -> dict[str, dict[str, object]]:
    """Parse the given CMS files and write their compact tables; returns what was installed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(data_dir)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if pcs is not None:
        pcs_codes = parse_pcs(_read_lines(pcs), pcs.name)
        _write(data_dir / PCS_TABLE, (f"{c}\t{d}" for c, d in sorted(pcs_codes.items())))
        manifest["icd10pcs"] = {"source": pcs.name, "codes": len(pcs_codes), "installed": now}
    if hcpcs is not None:
        codes, modifiers, terminated = parse_hcpcs(_read_lines(hcpcs), hcpcs.name)
        _write(data_dir / HCPCS_TABLE, (f"{c}\t{d}" for c, d in sorted(codes.items())))
        _write(data_dir / HCPCS_MODIFIERS, sorted(modifiers))
        manifest["hcpcs"] = {
            "source": hcpcs.name,
            "codes": len(codes),
            "modifiers": len(modifiers),
            "terminated_skipped": terminated,
            "installed": now,
        }
    if poa_exempt is not None:
        exempt = parse_poa_exempt(_read_lines(poa_exempt), poa_exempt.name)
        _write(data_dir / POA_EXEMPT, sorted(exempt))
        manifest["poa_exempt"] = {"source": poa_exempt.name, "codes": len(exempt), "installed": now}
    _write(data_dir / MANIFEST, [json.dumps(manifest, indent=2, sort_keys=True)])
    return manifest


def load_tables(data_dir: Path) -> CodeTables:
    """The tables installed under `data_dir` (missing ones are None)."""
    manifest = _read_manifest(data_dir)
    return CodeTables(
        pcs=_keys(data_dir / PCS_TABLE) if "icd10pcs" in manifest else None,
        hcpcs=_keys(data_dir / HCPCS_TABLE) if "hcpcs" in manifest else None,
        hcpcs_modifiers=_keys(data_dir / HCPCS_MODIFIERS) if "hcpcs" in manifest else None,
        poa_exempt=_keys(data_dir / POA_EXEMPT) if "poa_exempt" in manifest else None,
    )


_current_dir = DEFAULT_CODESET_DIR
_cache: tuple[Path, float, CodeTables] | None = None
_cache_lock = threading.Lock()


def use_codeset_dir(data_dir: Path) -> None:
    """Point `current_tables()` at another directory (the service does this from its settings)."""
    global _current_dir, _cache
    with _cache_lock:
        _current_dir, _cache = Path(data_dir), None


def current_tables() -> CodeTables:
    """Tables of the configured directory, re-read when an install changes its manifest."""
    global _cache
    manifest = _current_dir / MANIFEST
    try:
        stamp = manifest.stat().st_mtime
    except FileNotFoundError:
        return NO_TABLES
    cached = _cache
    if cached is not None and cached[0] == _current_dir and cached[1] == stamp:
        return cached[2]
    with _cache_lock:
        tables = load_tables(_current_dir)
        _cache = (_current_dir, stamp, tables)
    return tables


def _read_manifest(data_dir: Path) -> dict[str, dict[str, object]]:
    path = data_dir / MANIFEST
    if not path.exists():
        return {}
    loaded: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _read_lines(path: Path) -> list[str]:
    # CMS text files are Latin-1 (HCPCS) or ASCII; Latin-1 never fails to decode either.
    return path.read_text(encoding="latin-1").splitlines()


def _write(path: Path, lines: Iterable[str]) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    os.replace(temporary, path)


def _keys(path: Path) -> frozenset[str]:
    with path.open(encoding="utf-8") as handle:
        return frozenset(line.split("\t", 1)[0].strip() for line in handle if line.strip())
