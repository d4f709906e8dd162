"""Filtering, sorting and paging of server records held in memory.

Used by backends that keep every record in memory (SQLite does, see
``receiver.storage.sqlite``); a SQL backend would push the same
``ServerQuery`` into its WHERE / ORDER BY / LIMIT instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from receiver.records import ServerRecord
from receiver.status import StatusRule
from receiver.storage.base import SORT_FIELDS, ServerPage, ServerQuery

_RECORD_ATTRIBUTES = frozenset(
    {"server_id", "last_seen", "first_seen", "registered_at", "heartbeat_count"}
)


def _sort_value(record: ServerRecord, name: str) -> Any:
    if name in _RECORD_ATTRIBUTES:
        return getattr(record, name)
    value = record.info.get(name)
    return value if isinstance(value, str) else None


def select(
    records: Iterable[ServerRecord], query: ServerQuery, rule: StatusRule, now: int
) -> ServerPage:
    if query.sort not in SORT_FIELDS:
        raise ValueError(f"cannot sort by {query.sort!r}")
    matches = []
    bounds = [rule.last_seen_bounds(status, now) for status in query.statuses]
    stages = set(query.stages)
    needle = query.text.lower()
    for record in records:
        if bounds and not any(
            (low is None or record.last_seen >= low) and (high is None or record.last_seen <= high)
            for low, high in bounds
        ):
            continue
        if stages and record.info.get("odoo_stage") not in stages:
            continue
        if needle:
            hostname = record.info.get("hostname")
            if needle not in record.server_id.lower() and not (
                isinstance(hostname, str) and needle in hostname.lower()
            ):
                continue
        matches.append(record)
    # Unknown values (None) sort after known ones in either direction;
    # server_id breaks ties so that pages are stable.
    matches.sort(key=lambda record: record.server_id, reverse=query.descending)
    if query.sort != "server_id":
        known = [r for r in matches if _sort_value(r, query.sort) is not None]
        unknown = [r for r in matches if _sort_value(r, query.sort) is None]
        known.sort(key=lambda record: _sort_value(record, query.sort), reverse=query.descending)
        matches = known + unknown
    page = matches[query.offset : query.offset + query.limit]
    return ServerPage(page, len(matches))
