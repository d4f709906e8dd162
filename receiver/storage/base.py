"""The storage interface the routes are written against.

A backend owns atomicity and durability: ``register`` and ``heartbeat``
must read the current record, apply ``receiver.records.apply_register`` /
``apply_heartbeat`` and write the result as one atomic step (no lost update
under concurrent writers), and may only return once the write survives the
receiver process being killed (``kill -9``).  Everything else about the
record (the merge contract) lives in ``receiver.records`` so every backend
behaves identically.

A PostgreSQL backend fits as: ``SELECT ... FOR UPDATE`` (or an
``INSERT ... ON CONFLICT DO NOTHING`` first for new servers), apply the
same functions, ``UPDATE``, commit; listing pushes ``ServerQuery`` into SQL.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import msgspec

from receiver.records import Report, ServerRecord
from receiver.status import StatusRule

# Columns a listing can be sorted by; server_id is always the final tie-break
# so that offset pagination is stable.
SORT_FIELDS = (
    "server_id",
    "hostname",
    "database",
    "odoo_stage",
    "odoo_version",
    "version",
    "last_seen",
    "first_seen",
    "registered_at",
    "heartbeat_count",
)


class WriteResult(msgspec.Struct, frozen=True, gc=False):
    # A Struct, not a dataclass: one is built per write, and a frozen
    # dataclass's __init__ costs several times as much.
    record: ServerRecord
    created: bool


@dataclass(frozen=True, slots=True)
class ServerQuery:
    statuses: tuple[str, ...] = ()  # any of receiver.status.STATUSES; empty = all
    stages: tuple[str, ...] = ()  # exact odoo_stage values; empty = all
    text: str = ""  # case-insensitive substring of server_id or hostname
    sort: str = "server_id"
    descending: bool = False
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ServerPage:
    records: list[ServerRecord]
    total: int  # matching records across all pages


class Storage(abc.ABC):
    """One record per server_id."""

    @abc.abstractmethod
    def register(self, report: Report, now: int) -> WriteResult: ...

    @abc.abstractmethod
    def heartbeat(self, report: Report, now: int) -> WriteResult: ...

    @abc.abstractmethod
    def get(self, server_id: str) -> ServerRecord | None: ...

    @abc.abstractmethod
    def delete(self, server_id: str) -> bool:
        """True if a record was deleted."""

    @abc.abstractmethod
    def list_servers(self, query: ServerQuery, rule: StatusRule, now: int) -> ServerPage: ...

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ``StorageError`` unless the backend can serve reads."""

    @abc.abstractmethod
    def close(self) -> None:
        """Finish pending writes and release resources; idempotent."""
