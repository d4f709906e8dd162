"""Acknowledged writes survive a restart, including kill -9."""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import requests
from receiver_support import enriched_payload, registration_payload, slim_heartbeat


def _beat_concurrently(url: str, server_ids: list[str], per_server: int) -> None:
    def run(server_id):
        with requests.Session() as session:
            for _ in range(per_server):
                response = session.post(f"{url}/heartbeat", json=slim_heartbeat(server_id), timeout=30)
                assert response.status_code == 200

    with ThreadPoolExecutor(len(server_ids)) as pool:
        list(pool.map(run, server_ids))


def _snapshot(rx) -> dict[str, dict]:
    body = rx.get("/servers", params={"limit": 10000}).json()
    return {server["server_id"]: rx.get(f"/servers/{server['server_id']}").json()
            for server in body["servers"]}


def test_clean_restart_keeps_everything(start_receiver, server_id):
    rx = start_receiver()
    rx.post("/register", registration_payload(server_id, hostname="keep-me"))
    _beat_concurrently(rx.url, [server_id] * 4, 25)
    rx.post("/register", registration_payload(f"{server_id}-gone"))
    assert rx.delete(f"/servers/{server_id}-gone").status_code == 204
    before = _snapshot(rx)

    assert rx.stop() == 0
    # A clean stop leaves only the database file (and the lock file) behind.
    leftovers = sorted(p.name for p in rx.db.parent.iterdir() if p.name.startswith(rx.db.name))
    assert leftovers == [rx.db.name, f"{rx.db.name}-lock"]
    rx.restart()

    assert _snapshot(rx) == before
    assert before[server_id]["heartbeat_count"] == 100
    assert f"{server_id}-gone" not in before


def test_kill_9_loses_nothing_acknowledged(start_receiver, server_id):
    # A long checkpoint interval: everything since the start lives only in the
    # ack log when the process is killed, so recovery has to replay it.
    rx = start_receiver("--checkpoint-interval", "3600")
    ids = [f"{server_id}-{n}" for n in range(16)]
    for sid in ids:
        rx.post("/register", registration_payload(sid))
    _beat_concurrently(rx.url, ids, 25)
    rx.post("/heartbeat", enriched_payload(ids[0], hostname="renamed-before-crash"))
    assert rx.delete(f"/servers/{ids[1]}").status_code == 204
    before = _snapshot(rx)
    with sqlite3.connect(rx.db) as conn:
        assert conn.execute("SELECT count(*) FROM servers").fetchone()[0] == 0

    rx.kill()
    rx.restart()

    after = _snapshot(rx)
    assert after == before
    assert after[ids[0]]["hostname"] == "renamed-before-crash"
    assert after[ids[0]]["heartbeat_count"] == 26
    assert ids[1] not in after
    assert sum(record["heartbeat_count"] for record in after.values()) == 15 * 25 + 1
    assert "recovered" in rx.stderr


def test_kill_9_while_checkpointing_and_again_after_recovery(start_receiver, server_id):
    rx = start_receiver("--checkpoint-interval", "0.01")
    _beat_concurrently(rx.url, [server_id] * 16, 100)
    rx.kill()
    rx.restart()
    assert rx.get(f"/servers/{server_id}").json()["heartbeat_count"] == 1600
    _beat_concurrently(rx.url, [server_id] * 4, 10)
    rx.kill()
    rx.restart()
    assert rx.get(f"/servers/{server_id}").json()["heartbeat_count"] == 1640
    assert rx.stop() == 0


def test_sqlite_file_holds_one_row_per_server_after_checkpoint(start_receiver, server_id):
    rx = start_receiver()
    for _ in range(5):
        rx.post("/heartbeat", enriched_payload(server_id))
    assert rx.stop() == 0
    with sqlite3.connect(rx.db) as conn:
        rows = conn.execute(
            "SELECT server_id, hostname, heartbeat_count FROM servers WHERE server_id = ?",
            (server_id,),
        ).fetchall()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert rows == [(server_id, enriched_payload(server_id)["hostname"], 5)]


def test_a_torn_log_tail_is_ignored(start_receiver, server_id):
    rx = start_receiver("--checkpoint-interval", "3600")
    rx.post("/heartbeat", enriched_payload(server_id))
    rx.kill()
    segments = [p for p in rx.db.parent.iterdir() if "-acklog-" in p.name]
    assert len(segments) == 1
    with open(segments[0], "r+b") as log:
        used = len(log.read().rstrip(b"\0"))
        assert used > 0
        log.seek(used + 1)  # past the entry's zero separator
        log.write(b'{"seq":99,"row":["half a co')  # what a kill mid-copy could leave
    rx.restart()
    assert rx.get(f"/servers/{server_id}").json()["heartbeat_count"] == 1
    assert "unreadable" in rx.stderr


def test_log_of_a_deleted_database_is_not_replayed_into_a_new_one(start_receiver, server_id):
    rx = start_receiver("--checkpoint-interval", "3600")
    rx.post("/heartbeat", enriched_payload(server_id))
    rx.kill()
    for suffix in ("", "-wal", "-shm"):
        (rx.db.parent / f"{rx.db.name}{suffix}").unlink(missing_ok=True)
    rx.restart()
    assert rx.get(f"/servers/{server_id}").status_code == 404
    assert "belongs to another database" in rx.stderr


def test_second_receiver_on_the_same_database_is_refused(start_receiver):
    first = start_receiver()
    from receiver_support import run_cli

    result = run_cli("--port", "0", "--db", str(first.db))
    assert result.returncode == 2
    assert "in use by another receiver" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.path.exists(first.db)
