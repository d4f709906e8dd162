"""The storage interface, for every backend (SQLite today)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from receiver_support import REPO_ROOT, enriched_payload, receiver_env, registration_payload

from receiver.errors import StorageError
from receiver.records import report_from_fields
from receiver.status import StatusRule
from receiver.storage import ServerQuery, Storage
from receiver.storage.sqlite import SQLiteStorage

T = 1_750_000_000_000_000  # a fixed "now", microseconds


def _sqlite(path: Path) -> Storage:
    return SQLiteStorage(str(path / "storage.db"), checkpoint_interval=0.05)


BACKENDS = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
def open_backend(request, tmp_path):
    """``open_backend()`` opens (or reopens) the same store; all are closed at the end."""
    opened: list[Storage] = []

    def open_() -> Storage:
        store = BACKENDS[request.param](tmp_path)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_backend) -> Storage:
    return open_backend()


def test_heartbeat_merge_contract(store):
    first = store.heartbeat(report_from_fields(enriched_payload("a", hostname="h1")), T)
    assert first.created and first.record.heartbeat_count == 1
    second = store.heartbeat(
        report_from_fields({"server_id": "a", "status": "healthy", "timestamp": "t"}), T + 5)
    assert not second.created
    assert second.record.heartbeat_count == 2
    assert second.record.info["hostname"] == "h1"
    assert second.record.last_seen == T + 5
    third = store.heartbeat(report_from_fields({"server_id": "a", "hostname": "h2"}), T + 9)
    assert third.record.info["hostname"] == "h2"
    assert third.record.info["capabilities"] == enriched_payload("a")["capabilities"]
    assert store.get("a") == third.record


def test_last_seen_always_moves_even_if_the_clock_does_not(store):
    store.heartbeat(report_from_fields({"server_id": "a"}), T)
    again = store.heartbeat(report_from_fields({"server_id": "a"}), T)
    earlier = store.heartbeat(report_from_fields({"server_id": "a"}), T - 10)
    assert T < again.record.last_seen < earlier.record.last_seen


def test_register_contract(store):
    new = store.register(report_from_fields(registration_payload("a", hostname="h1")), T)
    assert new.created
    assert (new.record.registered_at, new.record.heartbeat_count) == (T, 0)
    store.heartbeat(report_from_fields({"server_id": "a"}), T + 1)
    again = store.register(report_from_fields(registration_payload("a", hostname="h2")), T + 2)
    assert not again.created
    assert again.record.registered_at == T
    assert again.record.heartbeat_count == 1
    assert again.record.info["hostname"] == "h2"
    assert again.record.last_seen == T + 2


def test_delete(store):
    store.register(report_from_fields(registration_payload("a")), T)
    assert store.delete("a") is True
    assert store.get("a") is None
    assert store.delete("a") is False
    assert store.heartbeat(report_from_fields({"server_id": "a"}), T + 1).created


def test_concurrent_heartbeats_are_all_counted(store):
    def beat():
        for _ in range(200):
            store.heartbeat(report_from_fields({"server_id": "hot"}), T)

    threads = [threading.Thread(target=beat) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("hot").heartbeat_count == 3200


def test_reopen_keeps_everything(open_backend):
    store = open_backend()
    for n in range(50):
        store.heartbeat(report_from_fields(enriched_payload(f"s{n}", hostname=f"h{n}")), T + n)
    store.register(report_from_fields(registration_payload("s7", hostname="renamed")), T + 100)
    store.delete("s3")
    snapshot = {r.server_id: r for r in store.list_servers(ServerQuery(limit=1000), StatusRule(), T).records}
    store.close()
    reopened = open_backend()
    again = {r.server_id: r for r in reopened.list_servers(ServerQuery(limit=1000), StatusRule(), T).records}
    assert again == snapshot
    assert "s3" not in again and again["s7"].info["hostname"] == "renamed"


def test_listing_filters_sorts_and_pages(store):
    stages = ["production", "staging", "dev"]
    for n in range(30):
        store.heartbeat(
            report_from_fields(enriched_payload(f"db_srv{n:02d}", hostname=f"Host-{29 - n:02d}",
                                                odoo_stage=stages[n % 3])),
            T - n * 60_000_000,  # one minute apart
        )
    rule = StatusRule()
    page = store.list_servers(ServerQuery(limit=10), rule, T)
    assert page.total == 30
    assert [r.server_id for r in page.records] == [f"db_srv{n:02d}" for n in range(10)]
    page = store.list_servers(ServerQuery(limit=10, offset=25), rule, T)
    assert [r.server_id for r in page.records] == [f"db_srv{n:02d}" for n in range(25, 30)]
    by_host = store.list_servers(ServerQuery(sort="hostname", limit=3), rule, T)
    assert [r.info["hostname"] for r in by_host.records] == ["Host-00", "Host-01", "Host-02"]
    newest = store.list_servers(ServerQuery(sort="last_seen", descending=True, limit=2), rule, T)
    assert [r.server_id for r in newest.records] == ["db_srv00", "db_srv01"]
    staging = store.list_servers(ServerQuery(stages=("staging",), limit=100), rule, T)
    assert staging.total == 10
    assert {r.info["odoo_stage"] for r in staging.records} == {"staging"}
    found = store.list_servers(ServerQuery(text="HOST-2", limit=100), rule, T)
    assert found.total == 10  # Host-20 .. Host-29, matched case-insensitively
    # online: <= 150 s old -> minutes 0, 1, 2; late: <= 600 s -> minutes 3..10
    online = store.list_servers(ServerQuery(statuses=("online",), limit=100), rule, T)
    assert online.total == 3
    late = store.list_servers(ServerQuery(statuses=("late",), limit=100), rule, T)
    assert late.total == 8
    both = store.list_servers(ServerQuery(statuses=("online", "offline"), limit=100), rule, T)
    assert both.total == 30 - 8


def test_missing_sort_values_come_last(store):
    store.heartbeat(report_from_fields({"server_id": "b-bare"}), T)
    store.heartbeat(report_from_fields(enriched_payload("a-full", hostname="zzz")), T)
    for descending in (False, True):
        page = store.list_servers(ServerQuery(sort="hostname", descending=descending), StatusRule(), T)
        assert [r.server_id for r in page.records] == ["a-full", "b-bare"]


def test_closed_storage_refuses_work(open_backend):
    store = open_backend()
    store.check()
    store.close()
    with pytest.raises(StorageError):
        store.heartbeat(report_from_fields({"server_id": "late"}), T)
    with pytest.raises(StorageError):
        store.check()
    store.close()  # idempotent


# -- SQLite specifics ----------------------------------------------------------------

_CRASH_SCRIPT = """
import os, sys
from receiver.records import report_from_fields
from receiver.storage import acklog
from receiver.storage.sqlite import SQLiteStorage
acklog.SEGMENT_BYTES = int(sys.argv[2])
store = SQLiteStorage(sys.argv[1], checkpoint_interval=3600)
for n in range(200):
    store.heartbeat(report_from_fields({"server_id": "s%d" % (n % 20), "hostname": "h%d" % n}),
                    1_000_000 + n)
store.delete("s0")
os._exit(0)  # no close(), no checkpoint: like kill -9
"""


@pytest.mark.parametrize("segment_bytes", [32 * 1024 * 1024, 4096], ids=["one-segment", "many"])
def test_sqlite_recovers_acknowledged_writes_after_a_crash(tmp_path, segment_bytes):
    db = tmp_path / "crash.db"
    subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(db), str(segment_bytes)],
                   cwd=REPO_ROOT, env=receiver_env(), check=True, timeout=60)
    segments = [p for p in tmp_path.iterdir() if "-acklog-" in p.name]
    assert (len(segments) == 1) == (segment_bytes > 4096)
    store = SQLiteStorage(str(db))
    try:
        assert store.get("s0") is None
        assert store.get("s1").heartbeat_count == 10
        assert store.get("s19").info["hostname"] == "h199"
        assert store.list_servers(ServerQuery(), StatusRule(), 0).total == 19
    finally:
        store.close()


def test_sqlite_drops_checkpointed_log_segments(tmp_path, monkeypatch):
    from receiver.storage import acklog

    monkeypatch.setattr(acklog, "SEGMENT_BYTES", 4096)
    store = SQLiteStorage(str(tmp_path / "rotating.db"), checkpoint_interval=3600)
    try:
        for n in range(300):
            store.heartbeat(report_from_fields(enriched_payload(f"s{n % 7}")), T + n)
        segments = [p for p in tmp_path.iterdir() if "-acklog-" in p.name]
        assert len(segments) > 20
        store._checkpoint()
        left = {str(p) for p in tmp_path.iterdir() if "-acklog-" in p.name}
        # The segment being written, and the spare the checkpointer may have prepared.
        spare = {store._spare.path} if store._spare else set()
        assert left == {store._segment.path} | spare
        assert store.get("s3").heartbeat_count == 43
    finally:
        store.close()
    assert not [p for p in tmp_path.iterdir() if "-acklog-" in p.name]
    reopened = SQLiteStorage(str(tmp_path / "rotating.db"))
    try:
        assert reopened.get("s3").heartbeat_count == 43
    finally:
        reopened.close()


def test_sqlite_syncs_the_ack_log_often_and_checkpoints_rarely(tmp_path, monkeypatch):
    from receiver.storage import acklog

    synced = []
    monkeypatch.setattr(acklog, "_fdatasync", synced.append)
    store = SQLiteStorage(str(tmp_path / "synced.db"), checkpoint_interval=3600, sync_interval=0.02)
    try:
        for n in range(50):
            store.heartbeat(report_from_fields(enriched_payload(f"s{n % 5}")), T + n)
        deadline = time.monotonic() + 5
        while store._segment.fd not in synced and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store._segment.fd in synced
        # Nothing checkpointed yet: the table is empty, the ack log holds it all.
        rows = sqlite3.connect(str(tmp_path / "synced.db")).execute("SELECT count(*) FROM servers")
        assert rows.fetchone()[0] == 0
        store._checkpoint()
        rows = sqlite3.connect(str(tmp_path / "synced.db")).execute(
            "SELECT server_id, heartbeat_count FROM servers ORDER BY server_id")
        assert rows.fetchall() == [(f"s{n}", 10) for n in range(5)]
    finally:
        store.close()


def test_sqlite_releases_replaced_records_in_its_thread_not_in_the_write(tmp_path):
    # Freeing a replaced record (its strings, its JSON) in the request that
    # replaced it costs more than freeing a batch of them in the background.
    idle = SQLiteStorage(str(tmp_path / "idle.db"), checkpoint_interval=3600, sync_interval=3600)
    try:
        first = idle.heartbeat(report_from_fields(enriched_payload("s")), T).record
        held = sys.getrefcount(first)
        second = idle.heartbeat(report_from_fields(enriched_payload("s")), T + 1).record
        assert idle.get("s") is second
        # Out of the records and of the unsaved ones, but not freed by the write:
        assert sys.getrefcount(first) == held - 2 + 1
        assert any(record is first for record in idle._replaced)
        idle._drop_replaced()  # what the storage's thread does every sync interval
        assert sys.getrefcount(first) == held - 2 and idle._replaced == []
    finally:
        idle.close()
    busy = SQLiteStorage(str(tmp_path / "busy.db"), checkpoint_interval=3600, sync_interval=0.02)
    try:
        for n in range(200):
            busy.heartbeat(report_from_fields(enriched_payload(f"s{n % 7}")), T + n)
        deadline = time.monotonic() + 5
        while busy._replaced and time.monotonic() < deadline:
            time.sleep(0.01)
        assert busy._replaced == []  # held for at most a sync interval, not for good
    finally:
        busy.close()


@pytest.mark.parametrize("servers", [1, 4, 11, 37])
def test_sqlite_checkpoint_writes_every_row_across_statements(tmp_path, monkeypatch, servers):
    from receiver.storage import sqlite as sqlite_backend

    # 4 rows per statement: 37 servers take statements of 4, 4, ..., 1.
    monkeypatch.setattr(sqlite_backend, "MAX_ROWS_PER_STATEMENT", 4)
    store = SQLiteStorage(str(tmp_path / "batched.db"), checkpoint_interval=3600)
    try:
        for n in range(servers):
            if n % 3 == 0:
                store.register(report_from_fields(registration_payload(f"s{n}")), T + n)
            store.heartbeat(report_from_fields(enriched_payload(f"s{n}", hostname=f"h{n}")),
                            T + 100 + n)
        store._checkpoint()
        expected = sorted(
            (r.server_id, r.hostname, r.database, r.odoo_stage, r.odoo_version, r.version,
             r.registered_at, r.first_seen, r.last_seen, r.heartbeat_count, r.info_json().decode())
            for r in (store.get(f"s{n}") for n in range(servers)))
    finally:
        store.close()
    with sqlite3.connect(str(tmp_path / "batched.db")) as conn:
        rows = conn.execute(
            "SELECT server_id, hostname, database, odoo_stage, odoo_version, version,"
            " registered_at, first_seen, last_seen, heartbeat_count, info FROM servers"
            " ORDER BY server_id").fetchall()
    assert rows == expected
    assert {row[6] is None for row in rows} == ({False, True} if servers > 1 else {False})


def test_checkpoint_statement_sizes_cover_every_count_with_few_texts():
    from receiver.storage.sqlite import _statement_sizes

    seen = set()
    for rows in range(0, 2000):
        sizes = list(_statement_sizes(rows, 512))
        assert sum(sizes) == rows
        assert all(0 < size <= 512 for size in sizes)
        seen.update(sizes)
    assert seen == {512} | {1 << bit for bit in range(9)}


def test_sqlite_failing_sync_shows_in_check_until_it_works_again(tmp_path, monkeypatch):
    from receiver.storage import acklog

    failing = threading.Event()
    failing.set()

    def fdatasync(fd):
        if failing.is_set():
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(acklog, "_fdatasync", fdatasync)
    store = SQLiteStorage(str(tmp_path / "failing.db"), checkpoint_interval=3600, sync_interval=0.02)
    try:
        # Still acknowledged: it is in the ack log.
        store.heartbeat(report_from_fields(enriched_payload("s1")), T)
        _wait_until(lambda: _check_fails(store))
        with pytest.raises(StorageError, match="Input/output error"):
            store.check()
        failing.clear()
        _wait_until(lambda: not _check_fails(store))
        assert store.get("s1").heartbeat_count == 1
    finally:
        store.close()


def _check_fails(store) -> bool:
    try:
        store.check()
    except StorageError:
        return True
    return False


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_sqlite_second_owner_is_refused(tmp_path):
    first = SQLiteStorage(str(tmp_path / "owned.db"))
    try:
        with pytest.raises(StorageError, match="in use by another receiver"):
            SQLiteStorage(str(tmp_path / "owned.db"))
    finally:
        first.close()
    SQLiteStorage(str(tmp_path / "owned.db")).close()


def test_sqlite_refuses_a_newer_schema(tmp_path):
    import sqlite3

    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError, match="newer than this receiver"):
        SQLiteStorage(str(db))
