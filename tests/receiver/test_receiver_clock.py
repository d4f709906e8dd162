"""Receiver time: integer microseconds, shown as fixed-width ISO 8601."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from receiver.clock import now_us, to_iso

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _expected(us: int) -> str:
    return (_EPOCH + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_to_iso_is_fixed_width_at_every_edge_and_across_seconds():
    rng = random.Random(20261128)
    edges = [0, 1, 999_999, 1_000_000, 1_000_001, -1, -999_999, -1_000_000, -1_500_000,
             1_764_316_604_000_000, 1_764_316_604_000_001, 1_764_316_604_999_999, 2**53]
    # Random times, and runs of times within one second (the cached date part).
    values = edges + [rng.randrange(-10**13, 10**17) for _ in range(5000)]
    values += [1_764_316_604_000_000 + rng.randrange(3_000_000) for _ in range(5000)]
    for us in values:
        assert to_iso(us) == _expected(us), us
    assert to_iso(None) is None


def test_now_is_exact_microseconds_and_freezes():
    with freeze_time("2026-11-28 07:36:44.123456"):
        assert now_us() == 1_795_851_404_123_456
        assert to_iso(now_us()) == "2026-11-28T07:36:44.123456Z"
