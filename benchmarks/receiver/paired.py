"""Paired A/B runs: is a change to the receiver faster, relative to (a)?

    python -m benchmarks.receiver.paired                      # this checkout against (a)
    python -m benchmarks.receiver.paired --baseline ../before  # and another checkout too

The main benchmark restarts every server for each 10 s run; on a shared VM
that drifts by 10-20 % between runs, which hides changes of a few percent.
Here every server is started once and kept running (the receiver on a fresh
SQLite file), and short wrk runs of the same load as the main benchmark
alternate between them, round after round, in alternating order.  Each
round gives each receiver's requests per second as a ratio to (a)'s in the
same round; the medians of those ratios (and their quartiles) are printed.
Repeated sets spread by about +-0.015, single 10 s runs by about +-0.05.

``--baseline DIR`` also runs ``python -m receiver`` from DIR, another
checkout of this repository (``git worktree add ../before <commit>``), so
that a change is measured against the code without it in the same rounds.
No durability check here: that is the main benchmark's job.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.receiver.harness import (
    REPO_ROOT,
    Measured,
    free_port,
    measured_run,
    run_wrk,
    start_server,
    stop_server,
)
from receiver.server import DEFAULT_THREADS

LOAD = {"connections": 16, "threads": 2, "servers": 10000}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.receiver.paired",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--duration", type=int, default=2, help="seconds per run")
    parser.add_argument("--baseline", type=Path, help="another checkout whose receiver runs too")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="request threads of every server")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("paired: error: wrk not found; install it (apt-get install wrk)", file=sys.stderr)
        return 2
    if args.baseline is not None and not (args.baseline / "receiver" / "__main__.py").is_file():
        print(f"paired: error: {args.baseline} is not a checkout of this repository", file=sys.stderr)
        return 2
    if args.rounds < 2 or args.duration < 1:
        print("paired: error: --rounds must be at least 2 and --duration at least 1", file=sys.stderr)
        return 2
    threads = ["--threads", str(args.threads)]
    variants = [("receiver", REPO_ROOT, "receiver")]
    if args.baseline is not None:
        variants.append(("baseline", args.baseline.resolve(), "receiver"))
    variants.append(("(a)", REPO_ROOT, "benchmarks.receiver.bare_app"))
    runs: dict[str, list[Measured]] = {name: [] for name, _, _ in variants}
    with tempfile.TemporaryDirectory(prefix="receiver-paired-") as tmp:
        servers = []
        try:
            with open(Path(tmp) / "servers.log", "a") as log:
                for name, cwd, module in variants:
                    port = free_port()
                    command = [sys.executable, "-m", module, "--port", str(port), *threads]
                    if module == "receiver":
                        command += ["--db", str(Path(tmp) / f"{name}.db")]
                    url = f"http://127.0.0.1:{port}"
                    servers.append((name, url, start_server(command, url, log, cwd=cwd)))
            for _, url, _ in servers:
                run_wrk(url, seconds=3, **LOAD)  # warm-up: every server_id known
            for round_number in range(args.rounds):
                for name, url, process in servers if round_number % 2 == 0 else servers[::-1]:
                    runs[name].append(measured_run(process, url, seconds=args.duration, **LOAD))
                print(f"round {round_number + 1}: " + ", ".join(
                    f"{name} {values[-1].rps:,.0f}" for name, values in runs.items()),
                    file=sys.stderr, flush=True)
        finally:
            for _, _, process in servers:
                stop_server(process)
    print(f"POST /heartbeat, wrk -t2 -c16, 10000 servers: {args.rounds} rounds of {args.duration} s, "
          f"servers kept running, {args.threads} request threads")
    print(f"{'variant':10} {'req/s':>8} {'CPU us/req':>10} {'vs (a), median':>15} {'quartiles':>13}")
    bare = runs["(a)"]
    for name, values in runs.items():
        ratios = [run.rps / bare_run.rps for run, bare_run in zip(values, bare, strict=True)]
        low, _, high = statistics.quantiles(ratios, n=4)
        print(f"{name:10} {statistics.median(v.rps for v in values):8,.0f} "
              f"{statistics.median(v.cpu_us_per_request for v in values):10.0f} "
              f"{statistics.median(ratios):15.3f} "
              f"{low:6.3f}-{high:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
