"""Variant (b): the seed project's receiver design, for comparison.

An in-memory dict behind one lock, merged the seed-001 way, on Flask's own
(development) server with threads.  It is given its best showing: request
logging is off, so the figure is the server and the lock, not the terminal.
Nothing here survives a restart; that is the point of comparison.
"""

from __future__ import annotations

import argparse
import logging
import threading
from datetime import datetime, timezone

from flask import Flask, jsonify, request

ENRICHED_FIELDS = (
    "hostname",
    "ip_addresses",
    "capabilities",
    "odoo_version",
    "port",
    "transport",
    "odoo_stage",
    "version",
    "database",
)


def create_seed_app() -> Flask:
    app = Flask(__name__)
    servers: dict[str, dict] = {}
    lock = threading.Lock()

    @app.post("/heartbeat")
    def heartbeat():
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not data.get("server_id"):
            return jsonify(error="server_id is required"), 400
        server_id = data["server_id"]
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        with lock:
            record = servers.get(server_id)
            if record is None:
                record = {"server_id": server_id, "heartbeat_count": 0}
                servers[server_id] = record
            for field in ENRICHED_FIELDS:
                if field in data:
                    record[field] = data[field]
            record["last_seen"] = now
            record["heartbeat_count"] += 1
        return jsonify(status="ok")

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(f"Listening on http://{args.host}:{args.port}", flush=True)
    create_seed_app().run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
