"""The server record and the merge contract of seed 001, free of HTTP and SQL.

Every storage backend calls these functions inside its own atomic
read-modify-write, so the contract is written (and tested) exactly once:

* ``/register`` replaces what the server reported about itself, keeps
  ``registered_at`` (once set) and ``heartbeat_count``, and moves ``last_seen``.
* ``/heartbeat`` merges every reported field present in the payload into the
  record and keeps the absent ones; ``last_seen`` and ``heartbeat_count``
  always move; an unknown ``server_id`` starts a record with count 1.

Both take a ``Report``: one validated request body, as its JSON text plus
the few things the merge needs (``receiver.validation.parse_report`` makes
it; ``report_from_fields`` makes one from a dict).  The reported fields are
stored as sent and shown through ``reported_fields``, so a ``status`` or
``timestamp`` (sent now or kept from before) wins over a field a client
itself calls ``reported_status`` or ``reported_at``.
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
_SUMMARY_KEYS = frozenset(SUMMARY_FIELDS)

_encode_json = msgspec.json.encode
_decode_json = msgspec.json.decode
_EMPTY_JSON = msgspec.Raw(b"{}")
_NO_KEYS: frozenset[str] = frozenset()

# Key sets, shared between records: a fleet's servers send a handful of
# payload shapes, and comparing two shared sets is an identity check.
# Bounded, so that clients inventing field names cannot grow it forever;
# beyond the bound a record keeps its own set, which is only slower.
_KEY_SETS: dict[tuple[str, ...], frozenset[str]] = {}
MAX_SHARED_KEY_SETS = 4096


def key_set(fields: dict[str, Any] | tuple[str, ...]) -> frozenset[str]:
    """The shared set of a payload's field names (or of a tuple of names)."""
    keys = tuple(fields)
    shared = _KEY_SETS.get(keys)
    if shared is None:
        shared = frozenset(keys)
        if len(_KEY_SETS) < MAX_SHARED_KEY_SETS:
            _KEY_SETS[keys] = shared
    return shared


class Report(msgspec.Struct, frozen=True, gc=False):
    """What one register/heartbeat reported, validated.

    ``json`` is the body's JSON object on one line (the ack log is
    line-based), ``keys`` its field names (a shared set, see ``key_set``).
    The five summary fields are the reported values, ``None`` where the
    field was not sent (validation rejects ``null`` for them).
    """

    server_id: str
    json: msgspec.Raw
    keys: frozenset[str]
    hostname: str | None = None
    database: str | None = None
    odoo_stage: str | None = None
    odoo_version: str | None = None
    version: str | None = None


def report_from_fields(fields: dict[str, Any], json: bytes | None = None, *,
                       server_id: str | None = None) -> Report:
    """The report of a validated payload; ``json``, if given, is its JSON text on one line.

    ``server_id`` is taken from the fields unless given.
    """
    get = fields.get
    return Report(fields["server_id"] if server_id is None else server_id,
                  msgspec.Raw(_encode_json(fields) if json is None else json), key_set(fields),
                  get("hostname"), get("database"), get("odoo_stage"), get("odoo_version"),
                  get("version"))


class ServerRecord(msgspec.Struct, frozen=True, gc=False):
    """One server, immutable: a write replaces the record.

    What the server reported about itself is kept as JSON text, in two
    parts, keys as sent (``server_id``, ``status`` and ``timestamp``
    included; ``info`` shows them the way the API does):

    * ``latest_json``: the fields of the latest register/heartbeat;
    * ``kept_json``: fields of earlier ones that the latest did not send
      (a heartbeat keeps what it does not mention), usually just the
      registration's ``started_at``.

    Their key sets, ``latest_keys`` and ``kept_keys``, let a heartbeat that
    sends the same fields as the one before replace ``latest_json`` without
    decoding anything: the merge of seed 001 is then "the new payload, plus
    what was kept", which is most writes.  A record holds no container the
    garbage collector must walk (``gc=False`` is safe because nothing in it
    can refer back), which keeps collections short with thousands of
    records.

    ``row()`` is what the ack log stores; ``from_row`` reads it back.
    """

    server_id: str
    hostname: str | None
    database: str | None
    odoo_stage: str | None
    odoo_version: str | None
    version: str | None
    registered_at: int | None
    first_seen: int
    last_seen: int
    heartbeat_count: int
    latest_json: msgspec.Raw
    kept_json: msgspec.Raw
    latest_keys: frozenset[str]
    kept_keys: frozenset[str]

    @property
    def info(self) -> dict[str, Any]:
        """A fresh dict of the reported fields, as the API shows them."""
        fields = _decode_json(self.latest_json)
        if self.kept_keys:
            fields = {**_decode_json(self.kept_json), **fields}
        return reported_fields(fields)

    def info_json(self) -> bytes:
        """All reported fields as one JSON object, keys as sent."""
        latest = bytes(self.latest_json)
        if not self.kept_keys:
            return latest
        kept = bytes(self.kept_json)
        if not self.latest_keys:
            return kept
        # Both are JSON objects on one line, ``{`` first and ``}`` last (the
        # latest as sent or re-encoded, see validation._storable_as_sent; the
        # kept one encoded here), with disjoint keys.
        return b"%b,%b" % (latest[:-1], kept[1:])

    def row(self) -> Row:
        return Row(self.server_id, self.hostname, self.database, self.odoo_stage,
                   self.odoo_version, self.version, self.registered_at, self.first_seen,
                   self.last_seen, self.heartbeat_count, self.latest_json, self.kept_json)

    @classmethod
    def from_row(cls, row: Row) -> ServerRecord:
        """Raises ``msgspec.ValidationError`` unless both reported parts are objects."""
        latest = _decode_json(row.latest_json, type=dict)
        kept = _decode_json(row.kept_json, type=dict)
        return cls(row.server_id, row.hostname, row.database, row.odoo_stage, row.odoo_version,
                   row.version, row.registered_at, row.first_seen, row.last_seen,
                   row.heartbeat_count, row.latest_json, row.kept_json, key_set(latest),
                   key_set(kept))

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


class Row(msgspec.Struct, array_like=True, frozen=True):
    """A record as the ack log stores it: a JSON array in ``ServerRecord.row()`` order.

    Receivers before 1.1 wrote 11 items, the reported fields already renamed
    as ``info`` shows them; they read back as ``latest_json`` with nothing
    kept, which ``info`` shows the same way.
    """

    server_id: str
    hostname: str | None
    database: str | None
    odoo_stage: str | None
    odoo_version: str | None
    version: str | None
    registered_at: int | None
    first_seen: int
    last_seen: int
    heartbeat_count: int
    latest_json: msgspec.Raw
    kept_json: msgspec.Raw = _EMPTY_JSON


def record_from_columns(server_id: str, info: str, first_seen: int, last_seen: int,
                        heartbeat_count: int, registered_at: int | None) -> ServerRecord:
    """A record from the ``servers`` table: ``info`` is ``info_json()``."""
    raw = info.strip().encode()
    fields = _decode_json(raw)
    # server_id from the column: an info column written before 1.1 has none.
    report = report_from_fields(fields, raw, server_id=server_id)
    return _record(report, None, registered_at, first_seen, last_seen, heartbeat_count)


def _record(report: Report, existing: ServerRecord | None, registered_at: int | None,
            first_seen: int, last_seen: int, heartbeat_count: int,
            kept_json: msgspec.Raw = _EMPTY_JSON, kept_keys: frozenset[str] = _NO_KEYS,
            ) -> ServerRecord:
    """A record whose summary fields are the report's, else the existing record's."""
    summary = (report.hostname, report.database, report.odoo_stage, report.odoo_version,
               report.version)
    if existing is None:
        server_id = report.server_id
    else:
        server_id = existing.server_id
        if None in summary:
            summary = tuple(
                kept if reported is None else reported
                for reported, kept in zip(summary, (existing.hostname, existing.database,
                                                    existing.odoo_stage, existing.odoo_version,
                                                    existing.version), strict=True))
    return ServerRecord(server_id, *summary, registered_at, first_seen, last_seen, heartbeat_count,
                        report.json, kept_json, report.keys, kept_keys)


def reported_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields a server reported, as the API shows them: without the
    receiver's own, ``status`` and ``timestamp`` renamed."""
    info = fields.copy()
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


def apply_register(existing: ServerRecord | None, report: Report, now: int) -> ServerRecord:
    """A registration replaces everything reported before."""
    if existing is None:
        return _record(report, None, now, now, now, 0)
    # A server first seen through a heartbeat gets registered_at on its first
    # registration; later re-registrations keep it.
    registered_at = existing.registered_at if existing.registered_at is not None else now
    # A field it no longer sends is gone, not kept from before: no existing
    # record to take summary fields from.
    return _record(report, None, registered_at, existing.first_seen,
                   _advance(existing.last_seen, now), existing.heartbeat_count)


def apply_heartbeat(existing: ServerRecord | None, report: Report, now: int) -> ServerRecord:
    """The report is merged over what the record holds."""
    if existing is None:
        return _record(report, None, None, now, now, 1)
    keys = report.keys
    latest_keys = existing.latest_keys
    if latest_keys is keys and _SUMMARY_KEYS <= keys:
        # The same fields as last time, every summary field among them (the
        # addon's heartbeat): the report replaces what the latest held, the
        # kept part stays (it holds none of these keys), the summary is the
        # report's.  _record's result, in one step: this runs for most writes.
        last_seen = existing.last_seen
        return ServerRecord(existing.server_id, report.hostname, report.database,
                            report.odoo_stage, report.odoo_version, report.version,
                            existing.registered_at, existing.first_seen,
                            now if now > last_seen else last_seen + 1,
                            existing.heartbeat_count + 1, report.json, existing.kept_json, keys,
                            existing.kept_keys)
    if (latest_keys is keys or latest_keys <= keys) and existing.kept_keys.isdisjoint(keys):
        # Every field of the previous report is replaced, nothing kept is: no decoding.
        kept_json, kept_keys = existing.kept_json, existing.kept_keys
    else:
        before = _decode_json(existing.latest_json)
        if existing.kept_keys:
            before = {**_decode_json(existing.kept_json), **before}
        kept = {name: value for name, value in before.items() if name not in keys}
        kept_json = msgspec.Raw(_encode_json(kept)) if kept else _EMPTY_JSON
        kept_keys = key_set(kept)
    return _record(report, existing, existing.registered_at, existing.first_seen,
                   _advance(existing.last_seen, now), existing.heartbeat_count + 1, kept_json,
                   kept_keys)
