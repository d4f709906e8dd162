"""No lost update: concurrent heartbeats are all counted, over real HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from receiver_support import enriched_payload, registration_payload, slim_heartbeat

THREADS = 16
PER_THREAD = 100


def _hammer(url: str, payloads: list[dict]) -> list[int]:
    with requests.Session() as session:
        return [session.post(f"{url}/heartbeat", json=p, timeout=30).status_code for p in payloads]


def test_16_threads_x_100_heartbeats_on_one_server_are_counted_exactly(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/register", registration_payload(server_id))
    # Mixed slim and enriched heartbeats, each thread reporting its own hostname.
    work = [
        [
            slim_heartbeat(server_id) if i % 2 else enriched_payload(server_id, hostname=f"t{t}")
            for i in range(PER_THREAD)
        ]
        for t in range(THREADS)
    ]
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [s for result in pool.map(lambda p: _hammer(rx.url, p), work) for s in result]

    assert statuses == [200] * THREADS * PER_THREAD
    record = rx.get(f"/servers/{server_id}").json()
    assert record["heartbeat_count"] == THREADS * PER_THREAD
    # The last merge wins as a whole: the hostname is one a thread really sent.
    assert record["hostname"] in {f"t{t}" for t in range(THREADS)}


def test_acknowledged_counts_are_distinct_and_complete(shared_receiver, server_id):
    """Every response reports a different count: each merge saw all earlier ones."""
    rx = shared_receiver

    def beat(_):
        return requests.post(f"{rx.url}/heartbeat", json=slim_heartbeat(server_id),
                             timeout=30).json()["heartbeat_count"]

    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(beat, range(320)))
    assert sorted(counts) == list(range(1, 321))


def test_concurrent_first_heartbeats_create_one_record(shared_receiver, server_id):
    rx = shared_receiver

    def beat(_):
        return requests.post(f"{rx.url}/heartbeat", json=enriched_payload(server_id),
                             timeout=30).json()["created"]

    with ThreadPoolExecutor(THREADS) as pool:
        created = list(pool.map(beat, range(THREADS * 4)))
    assert created.count(True) == 1
    assert rx.get(f"/servers/{server_id}").json()["heartbeat_count"] == THREADS * 4
    listed = rx.get("/servers", params={"q": server_id}).json()
    assert listed["total"] == 1
