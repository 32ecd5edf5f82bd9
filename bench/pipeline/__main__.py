"""python -m bench.pipeline [--encounters N] [--rate R|Fx] [--intake-only] [--postgres] ...

Runs N encounters through the running platform (this checkout's stack, started as
`stack.py up --services` starts it, or the one at the addresses given) with a simulated coder,
and prints per stage the rate and latency beside ceilings measured in the same run on the same
servers. See README.md ("Measured on this machine") and `--help`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bench.pipeline.platform import PlatformError, given_platform, local_platform
from bench.pipeline.report import render
from bench.pipeline.run import Options, benchmark
from shared.secrets import resolve_admin_token
from shared.settings import ChartflowSettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.pipeline",
        description="Encounters through the whole platform with a simulated coder: each stage's "
        "rate and p50/p99 beside ceilings measured in the same run on the same servers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--encounters", type=int, default=1000, help="encounters pushed")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    p.add_argument(
        "--rate",
        help="push at a steady rate instead of flat out: enc/s, or e.g. 0.5x for half the "
        "Temporal ceiling measured in this run; reports accepted → on a worklist p99",
    )
    p.add_argument(
        "--intake-only",
        action="store_true",
        help="intake's POST alone: maximum rate, then p50/p99 at 80%% of it",
    )
    p.add_argument("--duration", type=float, default=5.0, help="seconds per flat-out measurement")
    p.add_argument("--coders", type=int, default=8, help="the simulated coder's parallel hands")
    p.add_argument("--poll", type=float, default=0.05, help="seconds between worklist polls")
    p.add_argument(
        "--timeout", type=float, help="seconds to wait for every claim (none: 600 + 3 × N)"
    )
    p.add_argument(
        "--ceiling-workflows", type=int, help="trivial workflows (none: N, at most 1000)"
    )
    p.add_argument("--postgres", action="store_true", help="the services on PostgreSQL")
    given = p.add_argument_group("an already running stack (then nothing is started)")
    for name in ("intake", "assignment", "coding", "claims"):
        given.add_argument(f"--{name}-url", metavar="URL")
    given.add_argument("--temporal-address", metavar="HOST:PORT", default="127.0.0.1:7233")
    given.add_argument("--database-url", help="the services' PostgreSQL base URL (else SQLite)")
    given.add_argument("--var", type=Path, help="the services' var/ (SQLite files)")
    p.add_argument("--admin-token", help="the services' admin token (else ADMIN_TOKEN)")
    return p


def title(args: argparse.Namespace) -> str:
    if args.intake_only:
        return f"Chartflow intake benchmark: POST /v1/encounters at concurrency {args.concurrency}"
    rate = str(args.rate)
    steady = f"{rate[:-1]} × the Temporal ceiling" if rate.endswith("x") else f"{rate} enc/s"
    how = f"at a steady {steady}" if args.rate else f"flat out at concurrency {args.concurrency}"
    return (
        f"Chartflow pipeline benchmark: {args.encounters} encounters pushed {how}; a simulated "
        f"coder with {args.coders} hands polls the worklist every {args.poll} s"
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = ChartflowSettings()
    # The token the services use: given, set, or the one generated into <var>/secrets.
    admin_token = resolve_admin_token(
        args.admin_token or settings.admin_token, args.var or settings.chartflow_var
    )
    urls = {n: getattr(args, f"{n}_url") for n in ("intake", "assignment", "coding", "claims")}
    try:
        if any(urls.values()):
            var = args.var or settings.chartflow_var
            platform = given_platform(
                urls, args.temporal_address, args.database_url, var, admin_token
            )
        else:
            platform = local_platform(args.postgres, admin_token)
    except PlatformError as exc:
        print(f"bench.pipeline: {exc}", file=sys.stderr)
        return 1
    options = Options(
        encounters=args.encounters,
        concurrency=args.concurrency,
        rate=args.rate,
        intake_only=args.intake_only,
        duration=args.duration,
        coders=args.coders,
        poll=args.poll,
        timeout=args.timeout or 600 + 3 * args.encounters,
        ceiling_workflows=args.ceiling_workflows or min(args.encounters, 1000),
    )
    print(render(asyncio.run(benchmark(platform, options, title(args)))), end="")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal client's Rust threads can abort the interpreter's teardown with "Fatal
    # Python error: PyGILState_Release" (temporalio/sdk-python issue 300): skip the teardown.
    os._exit(code)
