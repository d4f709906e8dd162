"""Helpers shared by the simulators' tests (a module name unique in the whole test tree)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEST_ADDONS = HERE / "addons"
# A fixed simulated start: timestamps in the tests are exact.
START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc).timestamp()

PAYLOAD_FIELDS = {"server_id", "hostname", "ip_addresses", "port", "transport", "version",
                  "odoo_version", "database", "capabilities", "odoo_stage", "mcp_url",
                  "database_uuid"}
HEARTBEAT_FIELDS = PAYLOAD_FIELDS | {"status", "timestamp", "uptime_seconds"}
REGISTER_FIELDS = PAYLOAD_FIELDS | {"started_at"}
# The addon's time bounds (services/phone_home.py): a health answer never waits on the network; a
# cron run waits at most the registration budget (10 s) plus one heartbeat (2 s connect + 3 s read).
HEALTH_BOUND = 2.0
CRON_RUN_BOUND = 10.0 + 2.0 + 3.0 + 2.0
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def posts(sim, kind, server=None, gen=None):
    """The addon's POSTs to the receiver ("register" or "heartbeat"), in order."""
    found = []
    for event in sim.events():
        if event.get("type") != "http_out" or not (event.get("path") or "").endswith("/" + kind):
            continue
        if server is not None and event.get("server") != server:
            continue
        if gen is not None and event.get("gen") != gen:
            continue
        found.append(event)
    return found


def events_of(sim, kind, **match):
    return [e for e in sim.events() if e.get("type") == kind
            and all(e.get(k) == v for k, v in match.items())]


def check_payload(body: dict, fields: set, *, hostname=None, stage="production"):
    """A payload the addon sends: exactly `fields`, each well formed."""
    assert set(body) == fields, sorted(set(body) ^ fields)
    assert isinstance(body["hostname"], str) and body["hostname"]
    assert body["server_id"] == f"{body['database']}_{body['hostname']}"
    if hostname is not None:
        assert body["hostname"] == hostname
    ips = body["ip_addresses"]
    assert set(ips) == {"primary", "all"} and ips["primary"] in ips["all"]
    assert isinstance(body["port"], int) and 0 < body["port"] < 65536
    assert body["transport"] == "http/sse"
    assert body["version"] == "1.0.0"
    assert isinstance(body["odoo_version"], str) and body["odoo_version"][:2] in ("17", "18", "19")
    assert isinstance(body["capabilities"], list) and all(isinstance(c, str) for c in body["capabilities"])
    assert body["odoo_stage"] == stage
    if "status" in fields:
        assert body["status"] == "healthy"
        assert ISO_Z.match(body["timestamp"]), body["timestamp"]
        assert isinstance(body["uptime_seconds"], (int, float)) and body["uptime_seconds"] >= 0
    if "started_at" in fields:
        assert ISO_Z.match(body["started_at"]), body["started_at"]


def iso_epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def wait_until(predicate, limit: float = 10.0, step: float = 0.02):
    """Poll `predicate` until it is true, at most `limit` real seconds; returns its last value."""
    import time

    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
