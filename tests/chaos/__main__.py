"""`python -m tests.chaos [--encounters N] [--seed S] [--faults a,b]`: see docs/chaos.md."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time

from deploy.local.runner.config import Config
from tests.chaos.faults import FAULTS, RunnerStack
from tests.chaos.report import at_kill_table, notes, verdict_table
from tests.chaos.rounds import Options, plan_rounds, run_rounds
from tests.conftest import REPO


def _say(line: str) -> None:
    print(f"chaos: {line}", flush=True)


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--encounters", type=int, default=defaults.encounters, help="per fault")
    parser.add_argument("--seed", type=int, help="repeat a run's kill moments (default: random)")
    parser.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"comma-separated, in order (default: all of {','.join(FAULTS)})",
    )
    parser.add_argument("--rate", type=float, default=defaults.rate, help="pushes per second")
    parser.add_argument(
        "--settle-timeout", type=float, default=defaults.settle_timeout, help="seconds"
    )
    parser.add_argument("--claims-lease", type=float, default=defaults.claims_lease, help="seconds")
    parser.add_argument("--sqlite", action="store_true", help="services on SQLite, not PostgreSQL")
    args = parser.parse_args(argv)
    # The observer's client complains while the broker is down; that is the point of the round.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    unknown = [f for f in args.faults.split(",") if f not in FAULTS]
    if unknown:
        parser.error(f"unknown faults {unknown}; choose from {', '.join(FAULTS)}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    options = Options(args.encounters, args.rate, args.settle_timeout, args.claims_lease)
    runner = RunnerStack(Config.from_env())
    runner.up() if args.sqlite else runner.up("--postgres")
    stack = runner.stack(postgres=not args.sqlite)
    plans = plan_rounds([FAULTS[f] for f in args.faults.split(",")], args.encounters, seed)
    var = REPO / "var" / "chaos" / f"{time.strftime('%Y%m%d-%H%M%S')}-seed{seed}"
    repeat = f"python -m tests.chaos --encounters {args.encounters} --seed {seed}"
    _say(f"seed {seed} (repeat: {repeat} --faults {args.faults}); load average {_load()}")
    started = time.monotonic()
    results = asyncio.run(run_rounds(plans, options, stack, runner, var, _say))
    elapsed = time.monotonic() - started
    print("\nAt the kill (encounters past each stage):")
    print(at_kill_table(results))
    print(f"\nVerdict ({args.encounters} encounters per fault, seed {seed}):")
    print(verdict_table(results, args.encounters))
    print("\n" + notes(results))
    passed = all(r.passed(args.encounters) for r in results)
    print(
        f"\n{'PASSED' if passed else 'FAILED'}: {len(results)} faults in {elapsed:.0f} s; "
        f"load average {_load()} (1/5/15 min) on {os.cpu_count()} cores; seed {seed}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
