"""Receiver-side time: integer microseconds since the Unix epoch, UTC.

All bookkeeping times (``last_seen`` and friends) come from the receiver's
clock, never from the client's ``timestamp``, so a server with a skewed clock
cannot make itself look online.  Integers keep comparisons exact in every
backend; ISO 8601 with a ``Z`` suffix is only the wire format.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def now_us() -> int:
    # time.time() rather than time_ns() so that freezegun can freeze it.
    return int(time.time() * 1_000_000)


def to_iso(us: int | None) -> str | None:
    """``2025-01-31T12:00:00.123456Z``: fixed width, so it also sorts as text."""
    if us is None:
        return None
    # isoformat() is C code; timespec keeps the width fixed even at .000000.
    return (_EPOCH + timedelta(microseconds=us)).isoformat(timespec="microseconds")[:-6] + "Z"
