"""The server record and the merge contract of seed 001, free of HTTP and SQL.

Every storage backend calls these functions inside its own atomic
read-modify-write, so the contract is written (and tested) exactly once:

* ``/register`` replaces what the server reported about itself, keeps
  ``registered_at`` (once set) and ``heartbeat_count``, and moves ``last_seen``.
* ``/heartbeat`` merges every reported field present in the payload into the
  record and keeps the absent ones; ``last_seen`` and ``heartbeat_count``
  always move; an unknown ``server_id`` starts a record with count 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from receiver.clock import to_iso

# The fields the addon's _build_server_payload sends, which the seed's merge
# rule names explicitly (plus version and database, which the addon sends too).
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

# Owned by the receiver: a client cannot set them, values sent are ignored.
MANAGED_FIELDS = frozenset(
    {"server_id", "registered_at", "first_seen", "last_seen", "heartbeat_count"}
)

# The heartbeat's own ``status`` ("healthy") and ``timestamp`` (client clock)
# are stored under these names, because ``status`` in every response is the
# receiver's online/late/offline verdict.
RENAMED_FIELDS = {"status": "reported_status", "timestamp": "reported_at"}

SUMMARY_FIELDS = ("hostname", "database", "odoo_stage", "odoo_version", "version")


@dataclass(slots=True)
class ServerRecord:
    server_id: str
    # Everything the server reported about itself, as sent (after renaming).
    info: dict[str, Any] = field(default_factory=dict)
    first_seen: int = 0
    last_seen: int = 0
    heartbeat_count: int = 0
    registered_at: int | None = None

    def to_json(self, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {"server_id": self.server_id}
        body.update(self.info)
        body["registered_at"] = to_iso(self.registered_at)
        body["first_seen"] = to_iso(self.first_seen)
        body["last_seen"] = to_iso(self.last_seen)
        body["heartbeat_count"] = self.heartbeat_count
        body["status"] = status
        return body

    def to_summary(self, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {"server_id": self.server_id}
        for name in SUMMARY_FIELDS:
            body[name] = self.info.get(name)
        body["registered_at"] = to_iso(self.registered_at)
        body["last_seen"] = to_iso(self.last_seen)
        body["heartbeat_count"] = self.heartbeat_count
        body["status"] = status
        return body


def reported_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The part of a validated payload that describes the server."""
    info = {name: value for name, value in payload.items() if name not in MANAGED_FIELDS}
    for name, stored_as in RENAMED_FIELDS.items():
        if name in info:
            info[stored_as] = info.pop(name)
    return info


def _advance(previous: int, now: int) -> int:
    # last_seen must visibly move on every write even if the wall clock
    # stepped back (NTP) or two writes land in the same microsecond.
    return now if now > previous else previous + 1


def apply_register(existing: ServerRecord | None, payload: dict[str, Any], now: int) -> ServerRecord:
    info = reported_fields(payload)
    if existing is None:
        return ServerRecord(
            server_id=payload["server_id"],
            info=info,
            first_seen=now,
            last_seen=now,
            heartbeat_count=0,
            registered_at=now,
        )
    return ServerRecord(
        server_id=existing.server_id,
        info=info,
        first_seen=existing.first_seen,
        last_seen=_advance(existing.last_seen, now),
        heartbeat_count=existing.heartbeat_count,
        # A server first seen through a heartbeat gets registered_at on its
        # first registration; later re-registrations keep it.
        registered_at=existing.registered_at if existing.registered_at is not None else now,
    )


def apply_heartbeat(existing: ServerRecord | None, payload: dict[str, Any], now: int) -> ServerRecord:
    info = reported_fields(payload)
    if existing is None:
        return ServerRecord(
            server_id=payload["server_id"],
            info=info,
            first_seen=now,
            last_seen=now,
            heartbeat_count=1,
            registered_at=None,
        )
    merged = dict(existing.info)
    merged.update(info)
    return ServerRecord(
        server_id=existing.server_id,
        info=merged,
        first_seen=existing.first_seen,
        last_seen=_advance(existing.last_seen, now),
        heartbeat_count=existing.heartbeat_count + 1,
        registered_at=existing.registered_at,
    )
