"""Install the public CMS code tables the coding service checks codes against.

    python -m services.coding.codesets_cli install --pcs icd10pcs_codes_2026.txt \
        --hcpcs HCPC2026_JAN_ANWEB.txt --poa-exempt POAexemptCodesFY26.txt [--dir var/codesets]
    python -m services.coding.codesets_cli status [--dir var/codesets]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.coding.domain.codesets import (
    DEFAULT_CODESET_DIR,
    CodesetFormatError,
    install,
    load_tables,
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.coding.codesets_cli", description="Install CMS code tables."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("install", help="parse CMS files and install their tables")
    add.add_argument("--pcs", type=Path, help="ICD-10-PCS codes or order file")
    add.add_argument("--hcpcs", type=Path, help="HCPCS Level II annual alpha-numeric file")
    add.add_argument("--poa-exempt", type=Path, help="CMS POA-exempt codes list (tab-delimited)")
    status = commands.add_parser("status", help="show what is installed")
    for command in (add, status):
        command.add_argument("--dir", type=Path, default=DEFAULT_CODESET_DIR, dest="data_dir")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    if args.command == "status":
        return _status(args.data_dir)
    if not (args.pcs or args.hcpcs or args.poa_exempt):
        print("install: give at least one of --pcs, --hcpcs, --poa-exempt", file=sys.stderr)
        return 2
    try:
        manifest = install(
            args.data_dir, pcs=args.pcs, hcpcs=args.hcpcs, poa_exempt=args.poa_exempt
        )
    except (OSError, CodesetFormatError) as exc:
        print(f"install failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"dir": str(args.data_dir), "installed": manifest}, indent=2))
    return 0


def _status(data_dir: Path) -> int:
    tables = load_tables(data_dir)
    summary = {
        "dir": str(data_dir),
        "icd10pcs": len(tables.pcs) if tables.pcs is not None else None,
        "hcpcs": len(tables.hcpcs) if tables.hcpcs is not None else None,
        "hcpcs_modifiers": len(tables.hcpcs_modifiers) if tables.hcpcs_modifiers else None,
        "poa_exempt": len(tables.poa_exempt) if tables.poa_exempt is not None else None,
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
