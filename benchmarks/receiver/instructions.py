"""Instructions per POST /heartbeat in the app, counted by valgrind (repeatable on a noisy machine).

    python -m benchmarks.receiver.instructions      # needs valgrind; about 2 minutes

For the bare Bottle route (a) and the receiver (SQLite storage in a
temporary directory), the app is called in-process through WSGI with
enriched heartbeats for 10,000 distinct servers: 10,000 warm-up calls, then
N calls, under ``valgrind --tool=callgrind``, for N = 1,000 and 5,000.  The
difference of the two totals divided by 4,000 is the cost of one request,
start-up and warm-up cancelled out.  No server, no network.

The storage's background thread is kept idle while requests are counted
(its timing under valgrind's slowdown would decide how many checkpoints
land in a run); its work is counted on its own: "checkpoint" checkpoints
after the N calls, so the difference is the cost of one changed server in
a checkpoint (N distinct servers changed).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

WARM_UP = 10_000
SMALL, LARGE = 1_000, 5_000


def heartbeat_body(index: int) -> bytes:
    """The same payload as heartbeat.lua (the addon's heartbeat), for server ``index``."""
    address = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"
    return json.dumps({
        "server_id": f"fleet{index:05d}_odoo-{index:05d}.dev.odoo.com",
        "hostname": f"odoo-{index:05d}.dev.odoo.com",
        "ip_addresses": {"primary": address, "all": [address, "172.17.0.2"]},
        "port": 8069, "transport": "http/sse", "version": "1.0.0", "odoo_version": "17.0",
        "database": f"fleet{index:05d}",
        "capabilities": ["call_method", "create_record", "delete_record", "execute_action",
                         "get_model_fields", "list_models", "read_record", "search_read",
                         "update_record"],
        "odoo_stage": ("production", "staging", "dev")[index % 3], "status": "healthy",
        "timestamp": "2025-06-01T12:00:00Z", "uptime_seconds": 3600 + index + 0.25,
    }, separators=(",", ":")).encode()


def _call(app, body: bytes) -> bytes:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/heartbeat", "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8765", "SERVER_PROTOCOL": "HTTP/1.1",
    }
    return b"".join(app(environ, lambda status, headers, exc_info=None: None))


def child(target: str, calls: int) -> None:
    storage = None
    if target == "bare":
        from benchmarks.receiver.bare_app import create_bare_app

        app = create_bare_app()
    else:
        from receiver.app import create_app
        from receiver.storage import open_storage

        storage = open_storage(os.path.join(tempfile.mkdtemp(), "fleet.db"),
                               checkpoint_interval=3600, sync_interval=3600)
        app = create_app(storage)
    bodies = [heartbeat_body(index) for index in range(10_000)]
    for n in range(WARM_UP):
        _call(app, bodies[n % 10_000])
    if storage is not None:
        storage._checkpoint()  # the warm-up's changes, in both runs alike
        storage._drop_replaced()
    for n in range(calls):
        _call(app, bodies[n % 10_000])
    if storage is not None:
        storage._drop_replaced()  # the checkpointer frees replaced records: count that too
    if target == "checkpoint":
        storage._checkpoint()
    os._exit(0)  # no storage close: only the calls (and the checkpoint) are counted


def count(target: str, calls: int) -> int:
    completed = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-m", "benchmarks.receiver.instructions", "--child", target, str(calls)],
        capture_output=True, text=True, check=True,
    )
    match = re.search(r"Collected : (\d+)", completed.stderr)
    if not match:
        raise RuntimeError(f"no count from valgrind:\n{completed.stderr[-2000:]}")
    return int(match.group(1))


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    if shutil.which("valgrind") is None:
        print("instructions: error: valgrind not found (apt-get install valgrind)", file=sys.stderr)
        return 2
    results = {}
    for target in ("bare", "receiver", "checkpoint"):
        results[target] = (count(target, LARGE) - count(target, SMALL)) / (LARGE - SMALL)
    for target in ("bare", "receiver"):
        print(f"{target:10} {results[target]:10,.0f} instructions per POST /heartbeat")
    print(f"checkpoint {results['checkpoint'] - results['receiver']:10,.0f} instructions per "
          f"changed server (Python and SQLite; fsync not counted)")
    print(f"receiver / bare: {results['receiver'] / results['bare']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
