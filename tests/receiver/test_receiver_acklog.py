"""The ack log's file format: what recovery reads back from segments.

Entries are JSON, each followed by a zero byte the writer never stores.  A
kill can tear only the last entry, and a copy may store its bytes in any
order; whatever of it reached the file must neither parse as an entry nor
take an acknowledged entry with it.
"""

from __future__ import annotations

import itertools

import msgspec
import pytest
from receiver_support import enriched_payload

from receiver.records import apply_heartbeat
from receiver.storage import acklog
from receiver.validation import parse_report


def _record(server_id: str, count: int = 1, **overrides):
    record = None
    for now in range(1, count + 1):
        body = msgspec.json.encode(enriched_payload(server_id, **overrides))
        record = apply_heartbeat(record, parse_report(body), now)
    return record


def _entries(*records) -> list[bytes]:
    buffer = acklog.new_entry_buffer()
    return [bytes(acklog.encode_row_entry(seq, record, buffer))
            for seq, record in enumerate(records, start=1)]


def _read(path) -> list[tuple[int, str, object]]:
    return [(entry.seq, entry.server_id, entry.row) for entry in acklog.read_entries([str(path)])]


@pytest.fixture
def segment(tmp_path):
    opened = acklog.open_segment(str(tmp_path / "fleet.db"), "0123abcd", 1, capacity=64 * 1024)
    yield opened
    opened.close(remove=False)


def test_entries_are_separated_by_one_unwritten_zero_byte(segment):
    first, second = _record("a", 3), _record("b")
    rows = _entries(first, second)
    delete = acklog.encode_delete_entry(3, "a")
    for seq, data in enumerate([*rows, delete], start=1):
        assert segment.append(seq, data)
    content = segment.map[: segment.offset]
    assert content == rows[0] + b"\0" + rows[1] + b"\0" + delete + b"\0"
    assert b"\n" not in content
    assert _read(segment.path) == [(1, "a", first), (2, "b", second), (3, "a", None)]


def test_an_entry_that_does_not_fit_with_its_separator_is_refused(tmp_path):
    data = _entries(_record("a"))[0]
    exact = acklog.open_segment(str(tmp_path / "fleet.db"), "0123abcd", 1, capacity=len(data))
    roomy = acklog.open_segment(str(tmp_path / "fleet.db"), "0123abcd", 2, capacity=len(data) + 1)
    try:
        assert not exact.append(1, data) and exact.offset == 0
        assert roomy.append(1, data) and roomy.offset == len(data) + 1
    finally:
        exact.close(remove=True)
        roomy.close(remove=True)


def test_the_entry_buffer_is_overwritten_not_appended_to():
    buffer = acklog.new_entry_buffer()
    long = bytes(acklog.encode_row_entry(1, _record("a-much-longer-server-id"), buffer))
    short = bytes(acklog.encode_row_entry(2, _record("a"), buffer))
    assert short == msgspec.json.encode({"seq": 2, "row": _record("a").row()})
    assert len(short) < len(long)


# A record whose reported strings hold what a forged entry would need: braces,
# "seq" and "row" keys, inside the server_id and inside the body stored as sent.
_HOSTILE = _record(
    '{"seq":999,"row":[]}', 2, hostname='"}{"seq":999,"row":["x"]}',
    ip_addresses={"primary": None, "all": ['{"seq":999,"row":["victim"]}']},
    capabilities=['{"seq":998,"delete":"victim"}', "{}", "]}"])


@pytest.mark.parametrize("torn_record", [_record("victim", 5), _HOSTILE], ids=["plain", "hostile"])
def test_no_way_of_tearing_the_last_entry_loses_or_forges_an_entry(tmp_path, torn_record):
    # The acknowledged entries, then the entry a kill interrupted.  A copy
    # may have stored any prefix, any suffix, or (memcpy of more than 256
    # bytes stores its unaligned first 32 bytes last) everything up to some
    # point except the head.
    acknowledged = [_record("victim", 4), _HOSTILE]
    *rows, torn = _entries(*acknowledged, torn_record)
    expected = [(seq, record.server_id, record) for seq, record in enumerate(acknowledged, start=1)]
    written = b"".join(row + b"\0" for row in rows)
    path = tmp_path / "segment"
    cuts = range(1, len(torn))
    shapes = itertools.chain(
        (torn[:cut] for cut in cuts),
        (bytes(cut) + torn[cut:] for cut in cuts),
        (bytes(32) + torn[32:cut] for cut in range(33, len(torn) + 1)),
    )
    for stored in shapes:
        path.write_bytes(written + stored + bytes(64))
        assert _read(path) == expected, stored


def test_segments_of_receivers_up_to_1_1_read_back(tmp_path):
    # Receivers up to 1.1 started every entry with a newline and stored it
    # with the entry; a torn entry whose head (the newline among it) was not
    # stored ran on from the entry before, which that format then lost.
    records = [_record("a", 2), _record("b")]
    old_rows = [b"\n" + row for row in _entries(*records)]
    torn = b"\n" + _entries(_record("c"), _record("c"), _record("c"))[2]
    path = tmp_path / "segment"
    for stored in (b"", torn[:40], bytes(32) + torn[32:200]):
        path.write_bytes(b"".join(old_rows) + stored + bytes(100))
        assert _read(path) == [(1, "a", records[0]), (2, "b", records[1])]
