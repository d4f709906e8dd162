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
    # time_ns(): exact integers, and cheaper than scaling a float; freezegun
    # freezes it as it does time().
    return time.time_ns() // 1000


# The last whole second formatted, (second, "YYYY-MM-DDTHH:MM:SS."): every
# write formats a time of the current second, so the date part is reused and
# only the microseconds are formatted.  A tuple is replaced atomically, so
# threads share it without a lock.
_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00.")


def to_iso(us: int | None) -> str | None:
    """``2025-01-31T12:00:00.123456Z``: fixed width, so it also sorts as text."""
    global _last_second
    if us is None:
        return None
    second, micro = divmod(us, 1_000_000)
    cached = _last_second
    if cached[0] != second:
        # isoformat() is C code; timespec keeps the width fixed.
        cached = (second,
                  (_EPOCH + timedelta(seconds=second)).isoformat(timespec="seconds")[:-6] + ".")
        _last_second = cached
    # The six digits of 1_000_000 + micro after its leading 1: zero-padded,
    # and cheaper than a format spec (every answer and listing row has two).
    return f"{cached[1]}{str(1_000_000 + micro)[1:]}Z"
