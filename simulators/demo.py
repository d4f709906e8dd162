"""`python -m simulators demo`: the receiver on a SQLite file plus a small simulated fleet.

A production server (installed, rebuilt twice: once with traffic, once without), a staging build
(a neutralized copy of production's database, ODOO_STAGE=staging) and a dev server, a few health
requests and a few simulated minutes, and an agent's view of production (the MCP SDK client
listing its tools and calling one). Then the summary, the fleet as GET /servers shows it, and
the URL to look at. With a terminal on stdin the receiver keeps serving until Ctrl-C; otherwise
(CI, tox) it is stopped and the demo exits 0.
"""

from __future__ import annotations

import os
import sys

from .agent import agent_view
from .receiver_process import ReceiverError, ReceiverProcess
from .report import render_summary, render_text
from .simulation import Simulation, run_and_report


def run_fleet(sim: Simulation, say=print) -> None:
    prod = sim.add_server("acme-prod", workers=4, stage="production")
    say("  production: installing the addon (generation 0)...")
    prod.start()
    prod.health_burst(5)
    sim.advance_minutes(2)

    dev = sim.add_server("acme-dev", workers=2, stage="dev")
    say("  dev: a fresh database with the addon...")
    dev.start()
    dev.health_burst(2)
    sim.advance_minutes(1)

    say("  production: rebuild 1 (new container), 5 health requests right away...")
    sim.advance(30)
    prod.rebuild()
    prod.health_burst(5)
    sim.advance_minutes(2)

    say("  staging: a neutralized copy of production's database (crons off), ODOO_STAGE=staging...")
    staging = prod.staging_copy("acme-staging", workers=2)
    staging.start()
    staging.health_burst(3)
    sim.advance_minutes(1)

    say("  production: rebuild 2, no traffic: the next cron run registers...")
    sim.advance(30)
    prod.rebuild()
    sim.advance_minutes(2)

    say("  production, as an AI agent sees it through the MCP endpoint:")
    agent_view(prod, say)


def _fleet_table(servers: list[dict]) -> list[str]:
    lines = [f"  {'server_id':<44} {'hostname':<24} {'stage':<11} {'status':<8} {'beats':>5}  last_seen"]
    for s in servers:
        lines.append(f"  {s.get('server_id', ''):<44} {str(s.get('hostname')):<24} "
                     f"{str(s.get('odoo_stage') or '-'):<11} {str(s.get('status')):<8} "
                     f"{s.get('heartbeat_count', 0):>5}  {s.get('last_seen')}")
    return lines


def demo(args) -> int:
    db = os.path.abspath(args.db)
    os.makedirs(os.path.dirname(db), exist_ok=True)
    receiver = ReceiverProcess(db, port=args.port, token=args.token)
    try:
        url = receiver.start()
    except ReceiverError as exc:
        hint = " (pass --port 0 for a free port)" if args.port else ""
        print(f"simulators demo: the receiver did not start: {exc}{hint}", file=sys.stderr)
        return 1
    try:
        print(f"Receiver: {url} (database {db}, log {receiver.log_path})")
        print("Simulating a small fleet (simulated time, real forked workers)...")
        sim = Simulation(url, token=args.token, seed=args.seed, start=args.start, db_dsn=args.db_dsn,
                         keep=args.keep)
        report, failure = run_and_report(sim, lambda: run_fleet(sim))
        print()
        if args.timeline:
            print(render_text(report))
        else:
            print("\n".join(render_summary(report["summary"])))
        if args.keep:
            print(f"\nRun directory (logs, events.jsonl): {sim.run_dir}")
        fleet = receiver.get("/servers")
        print(f"\nThe fleet as the receiver shows it (GET {url}/servers, {fleet['total']} servers):")
        print("\n".join(_fleet_table(fleet["servers"])))
        print(f"\nLook at it: {url}/servers   (one server: {url}/servers/<server_id>)")
        if failure or report["summary"]["problems"]:
            print(f"simulators demo: the run broke: {failure or report['summary']['problems'][0]}",
                  file=sys.stderr)
            return 1
        if sys.stdin is not None and sys.stdin.isatty():
            print("The receiver keeps serving; Ctrl-C to stop it.")
            try:
                receiver._process.wait()
            except KeyboardInterrupt:
                print()
        return 0
    finally:
        receiver.stop()
