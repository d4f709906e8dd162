"""Which WSGI server: the bare Bottle app on waitress, granian, gunicorn (gthread) and cheroot.

    python -m benchmarks.receiver.servers     # needs wrk and pip install -e '.[bench]'

Same wrk load as the main benchmark, interleaved rounds, medians, with the
seed's Flask development server for scale.  This is the measurement behind
the choice of waitress documented in receiver/README.md.  Python threads: 1
on granian (its HTTP layer has threads of its own), ``--threads`` on the
others (their HTTP parsing runs in Python threads).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.receiver.harness import free_port, measured_run, run_wrk, start_server, stop_server
from receiver.server import DEFAULT_THREADS

SERVERS = ("waitress", "granian", "gunicorn", "cheroot", "seed-flask")
THREADS = {"granian": 1}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.receiver.servers")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="threads for the pure-Python servers")
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in SERVERS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name in SERVERS:
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                if name == "seed-flask":
                    command = [sys.executable, "-m", "benchmarks.receiver.seed_flask", "--port", str(port)]
                else:
                    command = [sys.executable, "-m", "benchmarks.receiver.bare_app", "--port", str(port),
                               "--threads", str(THREADS.get(name, args.threads)), "--server", name]
                with open(Path(tmp) / f"{name}.log", "a") as log:
                    process = start_server(command, url, log)
                    try:
                        load = {"connections": 16, "threads": 2, "servers": 10000}
                        run_wrk(url, seconds=1, **load)
                        measured = measured_run(process, url, seconds=args.duration, **load)
                    finally:
                        stop_server(process)
                runs[name].append((measured.rps, measured.p99_ms, measured.cpu_us_per_request))
                print(f"{name}: {measured.rps:,.0f} req/s", file=sys.stderr, flush=True)
    print(f"bare Bottle app, {args.threads} threads (granian 1); seed-flask is variant (b), "
          f"the seed's Flask app that stores; wrk -t2 -c16, "
          f"{args.duration} s x {args.rounds} rounds")
    print(f"{'server':10} {'req/s':>8} {'p99 ms':>7} {'CPU us/req':>10}")
    for name, values in runs.items():
        rps, p99, cpu = (statistics.median(column) for column in zip(*values, strict=True))
        print(f"{name:10} {rps:8,.0f} {p99:7.1f} {cpu:10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
