"""Command line: `python -m simulators rebuild ...` and `python -m simulators demo`.

Exit status: 0 for a run that completed (a receiver that was down is data, not a failure),
1 for a run that broke (a process crashed, the database was unreachable, Odoo failed a request or
a cron run, a background thread outlived its bound), 2 for bad flags.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

EXIT_BROKEN = 1
EXIT_USAGE = 2
STAGES = {"production": "production", "staging": "staging", "dev": "dev", "none": ""}


def _bounded_int(low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid value {value!r}: not an integer") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"invalid value {value!r}: must be {low} to {high}")
        return number
    return parse


def _receiver_url(value: str) -> str:
    from .simulation import check_receiver_url

    try:
        return check_receiver_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _token(value: str) -> str:
    if not value or any(ch.isspace() for ch in value):
        raise argparse.ArgumentTypeError("the token must be non-empty and contain no whitespace")
    return value


def _stage(value: str) -> str:
    if value not in STAGES:
        raise argparse.ArgumentTypeError(f"invalid stage {value!r}: one of {', '.join(STAGES)}")
    return STAGES[value]


def _start(value: str) -> float:
    from .simulation import _parse_start

    try:
        return _parse_start(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid start {value!r}: an ISO 8601 UTC time") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators",
        description="Simulated Odoo servers running the odoo_dev_mcp addon unchanged: prefork "
                    "workers, Odoo.sh rebuilds and frozen time, against a real fleet receiver.")
    sub = parser.add_subparsers(dest="command", metavar="{rebuild,demo}")
    sub.required = True

    rebuild = sub.add_parser(
        "rebuild", help="install, then rebuild a simulated server R times against a receiver",
        description="Generation 0 installs the addon (which registers), then R rebuilds follow: each "
                    "a new container (new hostname and addresses, fresh workers, same database). In "
                    "each generation N health requests hit the workers at once right after the "
                    "(re)start, then M simulated minutes pass with the cron running every minute.")
    rebuild.add_argument("--receiver", required=True, type=_receiver_url, metavar="URL",
                         help="base URL of the fleet receiver (the addon POSTs URL/register and "
                              "URL/heartbeat)")
    rebuild.add_argument("--token", type=_token, default=None,
                         help="bearer token the addon sends (default: env RECEIVER_TOKEN, if set)")
    rebuild.add_argument("--workers", type=_bounded_int(1, 64), default=4, metavar="W",
                         help="HTTP workers per generation (default 4), plus one cron worker")
    rebuild.add_argument("--rebuilds", type=_bounded_int(0, 100), default=3, metavar="R",
                         help="rebuilds after the install (default 3)")
    rebuild.add_argument("--health-requests", type=_bounded_int(0, 1000), default=10, metavar="N",
                         help="concurrent GET /mcp/v1/health right after each (re)start (default 10)")
    rebuild.add_argument("--minutes", type=_bounded_int(0, 1440), default=3, metavar="M",
                         help="simulated minutes per generation, one cron run each (default 3)")
    rebuild.add_argument("--stage", type=_stage, default="production",
                         help="ODOO_STAGE of the containers: production, staging, dev or none "
                              "(default production)")
    rebuild.add_argument("--seed", type=_bounded_int(0, 2**63 - 1), default=None,
                         help="makes hostnames, addresses and database names reproducible "
                              "(default: random, printed)")
    rebuild.add_argument("--json", action="store_true", help="print the timeline and summary as JSON")
    _common(rebuild)
    rebuild.add_argument("--rebuild-seconds", type=_bounded_int(0, 3600), default=30, metavar="S",
                         help="simulated seconds a rebuild takes, cron-less (default 30)")
    rebuild.add_argument("--no-preload", action="store_true",
                         help="start like `odoo-bin` without -d: every worker imports the addon "
                              "on first use (own start time) instead of the master before the fork")

    demo = sub.add_parser(
        "demo", help="the receiver on a SQLite file plus a small simulated fleet",
        description="Starts the project's receiver (python -m receiver) on a SQLite file, runs a "
                    "small fleet against it (production rebuilt twice, a staging copy, a dev "
                    "server), prints what happened and the fleet as GET /servers shows it. With a "
                    "terminal the receiver keeps serving until Ctrl-C.")
    demo.add_argument("--port", type=_bounded_int(0, 65535), default=8765,
                      help="receiver port on 127.0.0.1 (default 8765; 0 picks a free one)")
    demo.add_argument("--db", default=os.path.join("var", "fleet.db"),
                      help="receiver SQLite file (default var/fleet.db)")
    demo.add_argument("--token", type=_token, default=None, help="require this bearer token")
    demo.add_argument("--seed", type=_bounded_int(0, 2**63 - 1), default=None)
    demo.add_argument("--timeline", action="store_true", help="print the whole timeline too")
    _common(demo)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db-dsn", default=None, metavar="DSN",
                        help="PostgreSQL for the simulated servers' databases, e.g. "
                             "postgresql://postgres@127.0.0.1:5432 (default: env ODOO_SIM_DB_DSN, "
                             "else SQLite files)")
    parser.add_argument("--start", type=_start, default=None, metavar="ISO",
                        help="simulated start time, e.g. 2026-01-05T09:00:00Z (default: now, to the minute)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run directory (logs, events.jsonl, databases) and print it")


def _prepare(args) -> int | None:
    """Shared checks; a message and exit status when the run cannot start."""
    from . import paths

    try:
        paths.ensure_src_on_path()
    except paths.OdooShadowError as exc:
        print(f"simulators: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args.db_dsn = args.db_dsn or os.environ.get("ODOO_SIM_DB_DSN") or None
    if args.db_dsn:
        from .simulation import SimulationError, check_pg

        try:
            check_pg(args.db_dsn)
        except SimulationError as exc:
            print(f"simulators: error: {exc}", file=sys.stderr)
            return EXIT_BROKEN
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(10**6)
    return None


def run_rebuild(args) -> int:
    from .report import render_text
    from .simulation import Simulation, run_and_report

    token = args.token or os.environ.get("RECEIVER_TOKEN") or None
    sim = Simulation(args.receiver, token=token, seed=args.seed, start=args.start, db_dsn=args.db_dsn,
                     keep=args.keep)

    def rebuilds() -> None:
        server = sim.add_server("odoo", workers=args.workers, stage=args.stage,
                                preload=not args.no_preload)
        for generation in range(args.rebuilds + 1):
            if generation == 0:
                server.start()
            else:
                sim.advance(args.rebuild_seconds)
                server.rebuild()
            server.health_burst(args.health_requests)
            sim.advance_minutes(args.minutes)

    report, failure = run_and_report(sim, rebuilds)
    problems = list(report["summary"]["problems"])
    if failure:
        problems.insert(0, failure)
    report["summary"]["run_broke"] = bool(problems)
    report["summary"]["failure"] = failure
    report["run"].update(workers=args.workers, rebuilds=args.rebuilds,
                         health_requests=args.health_requests, minutes=args.minutes,
                         stage=args.stage, run_dir=str(sim.run_dir) if args.keep else None)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render_text(report))
        if args.keep:
            print(f"\nRun directory (logs, events.jsonl, databases): {sim.run_dir}")
    if problems:
        print(f"simulators: the run broke: {problems[0]}", file=sys.stderr)
        return EXIT_BROKEN
    return 0


def run_demo(args) -> int:
    from .demo import demo

    return demo(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _prepare(args)
    if problem is not None:
        return problem
    started = time.monotonic()
    if args.command == "rebuild":
        code = run_rebuild(args)
    else:
        code = run_demo(args)
    sys.stdout.flush()
    if not getattr(args, "json", False):
        print(f"(real time: {time.monotonic() - started:.1f} s)", file=sys.stderr)
    return code
