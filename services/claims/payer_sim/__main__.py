"""python -m services.claims.payer_sim --in DIR --out DIR [--config adjudication.json]
python -m services.claims.payer_sim serve [--host H] [--port P] [--config adjudication.json]

The directory form answers every 837 file in --in (``*.x12``, ``*.837``, ``*.txt``) with
``<name>.999``, ``<name>.277ca`` and ``<name>.835`` in --out; with --watch it keeps polling
--in. The HTTP form (`serve`) is a payer you script per claim: see `service.py`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from .adjudication import Adjudication
from .simulator import PayerSimulator

SUFFIXES = (".x12", ".837", ".txt")


def answer_directory(sim: PayerSimulator, src: Path, dest: Path, done: set[str]) -> int:
    answered = 0
    for path in sorted(src.iterdir()):
        if path.suffix not in SUFFIXES or path.name in done:
            continue
        # the simulated payer's clock is the moment it reads the file, to the minute
        when = datetime.now().replace(second=0, microsecond=0)
        responses = sim.receive(path.read_text(encoding="ascii"), when)
        (dest / f"{path.stem}.999").write_text(responses.ack_999, encoding="ascii")
        if responses.ack_277ca:
            (dest / f"{path.stem}.277ca").write_text(responses.ack_277ca, encoding="ascii")
        if responses.remit_835:
            (dest / f"{path.stem}.835").write_text(responses.remit_835, encoding="ascii")
        done.add(path.name)
        answered += 1
        print(f"answered {path.name}: {len(responses.x12_errors)} X12 errors", flush=True)
    return answered


def serve(argv: list[str]) -> None:
    import uvicorn

    from .service import PayerDesk, create_app

    parser = argparse.ArgumentParser(prog="python -m services.claims.payer_sim serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8005)
    parser.add_argument("--config", type=Path, help="scenarios JSON to start with")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text()) if args.config else {}
    app = create_app(PayerDesk(config))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m services.claims.payer_sim")
    parser.add_argument("--in", dest="src", type=Path, required=True)
    parser.add_argument("--out", dest="dest", type=Path, required=True)
    parser.add_argument("--config", type=Path, help="adjudication JSON (see docs/claims.md)")
    parser.add_argument("--watch", type=float, default=0, help="poll every N seconds")
    args = parser.parse_args(argv)
    raw = json.loads(args.config.read_text()) if args.config else {}
    sim = PayerSimulator(Adjudication.from_dict(raw))
    args.dest.mkdir(parents=True, exist_ok=True)
    done: set[str] = set()
    answer_directory(sim, args.src, args.dest, done)
    while args.watch > 0:
        time.sleep(args.watch)
        answer_directory(sim, args.src, args.dest, done)


if __name__ == "__main__":
    main()
