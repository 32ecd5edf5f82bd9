"""`validate FILE`: validate one coded encounter document (FILE or - for stdin).

Prints {"valid": ..., "findings": [...]} and exits 0 when nothing blocks submission, 1 when an
error finding does, 2 when the input is not JSON or not the expected shape.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.coding.domain import EncounterShapeError, use_codeset_dir, validate_encounter


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.coding", description="Validate a coded encounter."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="validate one encounter JSON document")
    validate.add_argument("file", help="JSON file, or - to read standard input")
    validate.add_argument(
        "--codesets", type=Path, help="directory of installed CMS tables (default var/codesets)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    if args.codesets is not None:
        use_codeset_dir(args.codesets)
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, or NaN / Infinity
        print(f"{args.file}: not valid JSON: {exc}", file=sys.stderr)
        return 2
    try:
        result = validate_encounter(doc)
    except EncounterShapeError as exc:
        print(f"{args.file}: wrong shape: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2))
    return 0 if result.valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")
