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

from typing import Any

import msgspec

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
_MANAGED_BUT_ID = MANAGED_FIELDS - {"server_id"}

# The heartbeat's own ``status`` ("healthy") and ``timestamp`` (client clock)
# are stored under these names, because ``status`` in every response is the
# receiver's online/late/offline verdict.
RENAMED_FIELDS = {"status": "reported_status", "timestamp": "reported_at"}

# Reported fields every listing shows, sorts and filters by; a record keeps
# them as attributes (validation guarantees they are strings when present).
SUMMARY_FIELDS = ("hostname", "database", "odoo_stage", "odoo_version", "version")

_encode_json = msgspec.json.encode
_decode_json = msgspec.json.decode
_EMPTY_INFO = msgspec.Raw(b"{}")


class ServerRecord(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One server, immutable: a write replaces the record.

    ``info`` (everything the server reported about itself, as sent, after
    renaming) is kept as its JSON text, not as a dict: a record then holds
    no container the garbage collector must walk (``gc=False`` is safe
    because nothing in it can refer back), which keeps collections short
    with thousands of records, and it is what the ack log and SQLite store.

    Encoded with msgspec it is the 11-item JSON array of the ack log and of
    the ``servers`` columns, in their order.
    """

    server_id: str
    hostname: str | None = None
    database: str | None = None
    odoo_stage: str | None = None
    odoo_version: str | None = None
    version: str | None = None
    registered_at: int | None = None
    first_seen: int = 0
    last_seen: int = 0
    heartbeat_count: int = 0
    info_json: msgspec.Raw = _EMPTY_INFO

    @property
    def info(self) -> dict[str, Any]:
        """A fresh dict of the reported fields."""
        return _decode_json(self.info_json)

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
        return {
            "server_id": self.server_id,
            "hostname": self.hostname,
            "database": self.database,
            "odoo_stage": self.odoo_stage,
            "odoo_version": self.odoo_version,
            "version": self.version,
            "registered_at": to_iso(self.registered_at),
            "last_seen": to_iso(self.last_seen),
            "heartbeat_count": self.heartbeat_count,
            "status": status,
        }


def make_record(server_id: str, info: dict[str, Any], first_seen: int, last_seen: int,
                heartbeat_count: int, registered_at: int | None) -> ServerRecord:
    get = info.get
    return ServerRecord(
        server_id,
        get("hostname"),
        get("database"),
        get("odoo_stage"),
        get("odoo_version"),
        get("version"),
        registered_at,
        first_seen,
        last_seen,
        heartbeat_count,
        msgspec.Raw(_encode_json(info)),
    )


def reported_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The part of a validated payload that describes the server."""
    info = payload.copy()
    info.pop("server_id", None)
    if not _MANAGED_BUT_ID.isdisjoint(info):
        for name in _MANAGED_BUT_ID:
            info.pop(name, None)
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
        return make_record(payload["server_id"], info, now, now, 0, now)
    # A server first seen through a heartbeat gets registered_at on its first
    # registration; later re-registrations keep it.
    registered_at = existing.registered_at if existing.registered_at is not None else now
    return make_record(existing.server_id, info, existing.first_seen,
                       _advance(existing.last_seen, now), existing.heartbeat_count, registered_at)


def apply_heartbeat(existing: ServerRecord | None, payload: dict[str, Any], now: int) -> ServerRecord:
    info = reported_fields(payload)
    if existing is None:
        return make_record(payload["server_id"], info, now, now, 1, None)
    merged = existing.info
    merged.update(info)
    return make_record(existing.server_id, merged, existing.first_seen,
                       _advance(existing.last_seen, now), existing.heartbeat_count + 1,
                       existing.registered_at)
