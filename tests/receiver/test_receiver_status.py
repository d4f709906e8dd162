"""The online / late / offline rule, with frozen time."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from wsgiref.util import setup_testing_defaults

import pytest
from freezegun import freeze_time

from receiver.app import create_app
from receiver.clock import now_us
from receiver.records import report_from_fields
from receiver.status import LATE, OFFLINE, ONLINE, StatusRule
from receiver.storage.sqlite import SQLiteStorage

T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
SECOND = 1_000_000


def _us(moment: datetime) -> int:
    return int(moment.timestamp()) * SECOND


@pytest.mark.parametrize(
    ("age_s", "expected"),
    [
        (-30, ONLINE),  # receiver clock stepped back: still online
        (0, ONLINE),
        (61, ONLINE),  # one missed beat is cron jitter, not a problem
        (150, ONLINE),  # 2 intervals + 30 s grace, inclusive
        (150.000001, LATE),
        (300, LATE),
        (600, LATE),
        (600.000001, OFFLINE),
        (86400, OFFLINE),
    ],
)
def test_default_rule(age_s, expected):
    rule = StatusRule()
    now = _us(T0)
    assert rule.classify(now - round(age_s * SECOND), now) == expected


def test_rule_follows_the_heartbeat_interval():
    rule = StatusRule.for_interval(10)
    now = _us(T0)
    assert rule.classify(now - 25 * SECOND, now) == ONLINE
    assert rule.classify(now - 26 * SECOND, now) == LATE
    assert rule.classify(now - 100 * SECOND, now) == LATE
    assert rule.classify(now - 101 * SECOND, now) == OFFLINE
    assert StatusRule.for_interval(60) == StatusRule()


def test_classify_uses_the_clock_when_not_told_the_time():
    rule = StatusRule()
    with freeze_time(T0) as frozen:
        seen = now_us()
        assert rule.classify(seen) == ONLINE
        frozen.tick(timedelta(seconds=150))
        assert rule.classify(seen) == ONLINE
        frozen.tick(timedelta(seconds=1))
        assert rule.classify(seen) == LATE
        frozen.tick(timedelta(seconds=449))
        assert rule.classify(seen) == LATE
        frozen.tick(timedelta(seconds=1))
        assert rule.classify(seen) == OFFLINE


@pytest.mark.parametrize("interval", [60, 10, 1])
def test_filter_bounds_agree_with_classify(interval):
    rule = StatusRule.for_interval(interval)
    now = _us(T0)
    for age_ms in range(-2000, int(interval * 12_000), max(1, interval * 7)):
        last_seen = now - age_ms * 1000
        for status in (ONLINE, LATE, OFFLINE):
            low, high = rule.last_seen_bounds(status, now)
            inside = (low is None or last_seen >= low) and (high is None or last_seen <= high)
            assert inside == (rule.classify(last_seen, now) == status), (age_ms, status)


def _wsgi_get(app, path: str, query: str = "") -> tuple[str, dict]:
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET",
               "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status

    body = b"".join(app(environ, start_response))
    return captured["status"], json.loads(body)


def test_listing_reports_and_filters_status_as_time_passes(tmp_path):
    storage = SQLiteStorage(str(tmp_path / "status.db"))
    try:
        app = create_app(storage)
        with freeze_time(T0) as frozen:
            storage.heartbeat(report_from_fields({"server_id": "old"}), now_us())
            frozen.tick(timedelta(seconds=400))
            storage.heartbeat(report_from_fields({"server_id": "middle"}), now_us())
            frozen.tick(timedelta(seconds=300))
            storage.heartbeat(report_from_fields({"server_id": "fresh"}), now_us())
            frozen.tick(timedelta(seconds=100))
            # old: 800 s ago, middle: 400 s, fresh: 100 s
            _, body = _wsgi_get(app, "/servers")
            assert {s["server_id"]: s["status"] for s in body["servers"]} == {
                "old": OFFLINE, "middle": LATE, "fresh": ONLINE}
            for status, expected in ((ONLINE, ["fresh"]), (LATE, ["middle"]), (OFFLINE, ["old"]),
                                     ("online,offline", ["fresh", "old"])):
                _, body = _wsgi_get(app, "/servers", f"status={status}")
                assert [s["server_id"] for s in body["servers"]] == expected
            _, one = _wsgi_get(app, "/servers/middle")
            assert one["status"] == LATE
            frozen.tick(timedelta(seconds=201))
            _, one = _wsgi_get(app, "/servers/middle")
            assert one["status"] == OFFLINE
    finally:
        storage.close()
