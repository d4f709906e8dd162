"""The record and its merge, against a plain-dict model of seed 001's contract.

A record keeps the latest report as sent plus the fields it did not send
(``receiver.records``); whatever path a write takes, what ``info`` shows must
be what merging dicts would give.
"""

from __future__ import annotations

import json
import random

import msgspec
import pytest
from receiver_support import enriched_payload, registration_payload, slim_heartbeat

from receiver import records
from receiver.records import (
    Row,
    ServerRecord,
    apply_heartbeat,
    apply_register,
    record_from_columns,
    report_from_fields,
    reported_fields,
)
from receiver.storage import acklog
from receiver.validation import _addon_heartbeat_report, parse_report

SUMMARY = ("hostname", "database", "odoo_stage", "odoo_version", "version")


class Model:
    """Seed 001 in dicts: register replaces, heartbeat updates."""

    def __init__(self):
        self.info: dict | None = None

    def register(self, payload: dict) -> None:
        self.info = reported_fields(payload)

    def heartbeat(self, payload: dict) -> None:
        if self.info is None:
            self.info = {}
        self.info.update(reported_fields(payload))


def check(record: ServerRecord, model: Model) -> None:
    assert record.info == model.info
    for name in SUMMARY:
        assert getattr(record, name) == model.info.get(name)
    assert msgspec.json.decode(record.info_json()) == {
        **msgspec.json.decode(record.kept_json), **msgspec.json.decode(record.latest_json)}
    assert ServerRecord.from_row(msgspec.json.decode(msgspec.json.encode(record.row()), type=Row)) == record
    # What the ack log holds of it: the same line as a Row gives, read back whole.
    line = bytes(acklog.encode_row_entry(41, record, acklog.new_entry_buffer()))
    assert line == msgspec.json.encode({"seq": 41, "row": record.row()})
    entry = acklog._parse(line)
    assert (entry.seq, entry.server_id, entry.row) == (41, record.server_id, record)


def _random_payload(rng: random.Random, server_id: str) -> dict:
    full = {**enriched_payload(server_id, hostname=f"h{rng.randrange(5)}"),
            "status": rng.choice(["healthy", "degraded"]), "timestamp": f"t{rng.randrange(99)}",
            "started_at": f"s{rng.randrange(9)}", "extra": rng.randrange(3)}
    names = [name for name in full if name != "server_id" and rng.random() < 0.6]
    if rng.random() < 0.5:  # most clients send the same fields every time
        names = [name for name in full if name != "server_id"]
        if rng.random() < 0.5:  # exactly the addon's heartbeat
            names = [name for name in enriched_payload(server_id) if name != "server_id"]
    return {"server_id": server_id, **{name: full[name] for name in names}}


def test_any_sequence_of_writes_matches_the_dict_model():
    rng = random.Random(20261122)
    addon_path = 0
    for run in range(300):
        record, model = None, Model()
        for step in range(rng.randrange(1, 12)):
            payload = _random_payload(rng, f"s{run}")
            # As the routes make them: the addon's heartbeat takes its own path;
            # bodies compact or spaced as requests writes them, both stored as sent.
            separators = (",", ":") if rng.random() < 0.5 else None
            body = json.dumps(payload, separators=separators).encode()
            report = parse_report(body)
            addon_path += _addon_heartbeat_report(body) is not None
            if rng.random() < 0.2:
                record = apply_register(record, report, step)
                model.register(payload)
            else:
                record = apply_heartbeat(record, report, step)
                model.heartbeat(payload)
            check(record, model)
    assert addon_path > 200


def test_register_then_heartbeats_keep_started_at_and_rename_status():
    record = apply_register(None, report_from_fields(registration_payload("a")), 1)
    for step in range(2, 5):
        record = apply_heartbeat(record, report_from_fields(enriched_payload("a", status="healthy",
                                                          timestamp=f"t{step}")), step)
    info = record.info
    assert info["started_at"] == registration_payload("a")["started_at"]
    assert (info["reported_status"], info["reported_at"]) == ("healthy", "t4")
    assert "status" not in info and "server_id" not in info and "timestamp" not in info
    # Steady state: the kept part is the registration's started_at only.
    assert msgspec.json.decode(record.kept_json) == {"started_at": info["started_at"]}


def test_a_field_kept_from_before_is_replaced_when_sent_again():
    record = apply_heartbeat(None, report_from_fields(enriched_payload("a", port=8069)), 1)
    record = apply_heartbeat(record, report_from_fields(slim_heartbeat("a")), 2)
    assert record.info["port"] == 8069
    record = apply_heartbeat(record, report_from_fields({"server_id": "a", "port": 9000}), 3)
    assert record.info["port"] == 9000
    record = apply_heartbeat(record, report_from_fields(slim_heartbeat("a")), 4)
    assert record.info["port"] == 9000 and record.info["reported_status"] == "healthy"


def test_registration_forgets_fields_it_no_longer_sends():
    record = apply_heartbeat(None, report_from_fields(enriched_payload("a", extra="x")), 1)
    record = apply_register(record, report_from_fields(registration_payload("a")), 2)
    assert "extra" not in record.info and "reported_status" not in record.info


def test_client_values_for_receiver_fields_are_never_shown():
    record = apply_heartbeat(
        None, report_from_fields({"server_id": "a", "heartbeat_count": 99, "last_seen": "x"}), 1)
    assert record.info == {} and record.heartbeat_count == 1


def test_rows_of_receivers_before_1_1_read_back_the_same():
    # 11 items, the reported fields already renamed, as earlier receivers wrote them.
    old_info = {"hostname": "h", "port": 8069, "reported_status": "healthy", "reported_at": "t1"}
    line = msgspec.json.encode({"seq": 7, "row": ["a", "h", None, None, None, None, None, 1, 2, 3,
                                                  old_info]})
    entry = acklog._parse(line)
    assert entry.seq == 7 and entry.row.info == old_info and entry.row.heartbeat_count == 3
    later = apply_heartbeat(
        entry.row, report_from_fields({"server_id": "a", "status": "down", "timestamp": "t2"}), 5)
    assert later.info == {**old_info, "reported_status": "down", "reported_at": "t2"}


def test_a_row_whose_reported_fields_are_not_an_object_is_skipped():
    line = b'{"seq":7,"row":["a",null,null,null,null,null,null,1,2,3,[1]]}'
    assert acklog._parse(line) is None


def test_table_rows_in_the_old_shape_read_back_and_merge():
    old_info = '{"hostname":"h","reported_status":"healthy"}'
    record = record_from_columns("a", old_info, 1, 2, 3, None)
    assert record.info == {"hostname": "h", "reported_status": "healthy"}
    record = apply_heartbeat(record, report_from_fields({"server_id": "a", "status": "down"}), 5)
    assert record.info == {"hostname": "h", "reported_status": "down"}
    empty = record_from_columns("b", "{}", 1, 2, 3, None)
    record = apply_heartbeat(empty, report_from_fields({"server_id": "b"}), 5)
    assert record.info == {} and msgspec.json.decode(record.info_json()) == {"server_id": "b"}


def test_key_sets_are_shared_and_bounded(monkeypatch):
    monkeypatch.setattr(records, "_KEY_SETS", {})
    monkeypatch.setattr(records, "MAX_SHARED_KEY_SETS", 3)
    first = apply_heartbeat(None, report_from_fields(enriched_payload("a")), 1)
    second = apply_heartbeat(None, report_from_fields(enriched_payload("b")), 1)
    assert first.latest_keys is second.latest_keys
    for n in range(10):  # clients inventing field names
        apply_heartbeat(None, report_from_fields({"server_id": "c", f"field{n}": n}), 1)
    assert len(records._KEY_SETS) == 3
    record = apply_heartbeat(None, report_from_fields({"server_id": "d", "unshared": 1, "port": 1}), 1)
    record = apply_heartbeat(record, report_from_fields({"server_id": "d", "unshared": 2, "port": 2}), 2)
    record = apply_heartbeat(record, report_from_fields({"server_id": "d", "port": 3}), 3)
    assert record.info == {"unshared": 2, "port": 3}


@pytest.mark.parametrize("kept", [False, True])
def test_info_json_is_one_object_with_every_field(kept):
    record = apply_register(None, report_from_fields(registration_payload("a")), 1)
    if kept:
        record = apply_heartbeat(record, report_from_fields(slim_heartbeat("a")), 2)
    merged = msgspec.json.decode(record.info_json())
    assert reported_fields(merged) == record.info
