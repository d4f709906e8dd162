"""Filtering, sorting and paging of server records held in memory.

Used by backends that keep every record in memory (SQLite does, see
``receiver.storage.sqlite``); a SQL backend would push the same
``ServerQuery`` into its WHERE / ORDER BY / LIMIT instead.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable

from receiver.records import ServerRecord
from receiver.status import StatusRule
from receiver.storage.base import SORT_FIELDS, ServerPage, ServerQuery


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
        if stages and record.odoo_stage not in stages:
            continue
        if needle:
            hostname = record.hostname
            if needle not in record.server_id.lower() and not (
                hostname is not None and needle in hostname.lower()
            ):
                continue
        matches.append(record)
    # Unknown values (None) sort after known ones in either direction;
    # server_id breaks ties so that pages are stable.
    matches.sort(key=lambda record: record.server_id, reverse=query.descending)
    if query.sort != "server_id":
        # Every sort field is a record attribute (records.SUMMARY_FIELDS and the times).
        value = operator.attrgetter(query.sort)
        known = [r for r in matches if value(r) is not None]
        unknown = [r for r in matches if value(r) is None]
        known.sort(key=value, reverse=query.descending)
        matches = known + unknown
    page = matches[query.offset : query.offset + query.limit]
    return ServerPage(page, len(matches))
