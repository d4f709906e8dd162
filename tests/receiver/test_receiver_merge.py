"""Seed 001 "Receiver Enriched Heartbeat Merge" and POST /register, over real HTTP."""

from __future__ import annotations

import requests
from receiver_support import enriched_payload, registration_payload, slim_heartbeat

from receiver.records import ENRICHED_FIELDS as ENRICHED

# The seed names these seven; the issue adds version and database.
assert set(ENRICHED) == {"hostname", "ip_addresses", "capabilities", "odoo_version", "port",
                         "transport", "odoo_stage", "version", "database"}


def test_enriched_heartbeat_updates_the_record(shared_receiver, server_id):
    rx = shared_receiver
    assert rx.post("/register", registration_payload(server_id, hostname="old-host")).status_code == 201
    before = rx.get(f"/servers/{server_id}").json()

    response = rx.post("/heartbeat", enriched_payload(server_id, hostname="new-host"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    after = rx.get(f"/servers/{server_id}").json()
    assert after["hostname"] == "new-host"
    assert after["last_seen"] > before["last_seen"]
    assert after["heartbeat_count"] == before["heartbeat_count"] + 1 == 1
    assert response.json()["heartbeat_count"] == 1


def test_slim_heartbeat_preserves_the_record(shared_receiver, server_id):
    rx = shared_receiver
    registration = registration_payload(server_id, hostname="old-host")
    rx.post("/register", registration)
    rx.post("/heartbeat", enriched_payload(server_id, hostname="old-host"))
    before = rx.get(f"/servers/{server_id}").json()

    response = rx.post("/heartbeat", slim_heartbeat(server_id))

    assert response.status_code == 200
    after = rx.get(f"/servers/{server_id}").json()
    assert after["hostname"] == "old-host"
    for field in ENRICHED:
        assert after[field] == before[field] == registration[field], field
    assert after["last_seen"] > before["last_seen"]
    assert after["heartbeat_count"] == before["heartbeat_count"] + 1 == 2


def test_unknown_server_with_enriched_heartbeat_creates_it(shared_receiver, server_id):
    rx = shared_receiver
    payload = enriched_payload(server_id, hostname="fresh-host", odoo_stage="production")

    response = rx.post("/heartbeat", payload)

    assert response.status_code == 200
    assert response.json()["created"] is True
    record = rx.get(f"/servers/{server_id}").json()
    for field in ENRICHED:
        assert record[field] == payload[field], field
    assert record["heartbeat_count"] == 1
    assert record["registered_at"] is None
    assert record["first_seen"] == record["last_seen"]


def test_unknown_server_with_slim_heartbeat_creates_a_bare_record(shared_receiver, server_id):
    rx = shared_receiver
    assert rx.post("/heartbeat", slim_heartbeat(server_id)).status_code == 200
    record = rx.get(f"/servers/{server_id}").json()
    assert record["heartbeat_count"] == 1
    assert "hostname" not in record
    listed = rx.get("/servers", params={"q": server_id}).json()["servers"]
    assert listed[0]["hostname"] is None


def test_heartbeat_merges_only_the_fields_present(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/register", registration_payload(server_id))
    rx.post("/heartbeat", {"server_id": server_id, "port": 8070, "capabilities": ["only_this"]})
    record = rx.get(f"/servers/{server_id}").json()
    assert record["port"] == 8070
    assert record["capabilities"] == ["only_this"]
    assert record["hostname"] == registration_payload(server_id)["hostname"]
    assert record["odoo_version"] == "17.0"


def test_nested_objects_are_replaced_not_deep_merged(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/register", registration_payload(server_id))
    rx.post("/heartbeat", {"server_id": server_id, "ip_addresses": {"primary": "10.9.9.9"}})
    assert rx.get(f"/servers/{server_id}").json()["ip_addresses"] == {"primary": "10.9.9.9"}


def test_heartbeat_status_and_timestamp_are_kept_as_reported_values(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/heartbeat", enriched_payload(server_id, timestamp="2025-06-01T12:34:56Z"))
    record = rx.get(f"/servers/{server_id}").json()
    assert record["reported_status"] == "healthy"
    assert record["reported_at"] == "2025-06-01T12:34:56Z"
    assert record["uptime_seconds"] == 120.5
    # "status" is the receiver's own verdict from last_seen.
    assert record["status"] == "online"


def test_unknown_extra_fields_are_kept_and_merged(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/register", registration_payload(server_id, odoo_sh_project="acme", nested={"a": 1}))
    rx.post("/heartbeat", {**slim_heartbeat(server_id), "queue_depth": 3})
    record = rx.get(f"/servers/{server_id}").json()
    assert record["odoo_sh_project"] == "acme"
    assert record["nested"] == {"a": 1}
    assert record["queue_depth"] == 3


def test_receiver_managed_fields_cannot_be_set_by_clients(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/heartbeat", {**slim_heartbeat(server_id), "heartbeat_count": 999,
                           "last_seen": "2000-01-01T00:00:00Z", "registered_at": "x"})
    record = rx.get(f"/servers/{server_id}").json()
    assert record["heartbeat_count"] == 1
    assert record["last_seen"].startswith("20") and record["last_seen"] != "2000-01-01T00:00:00Z"
    assert record["registered_at"] is None


def test_register_new_then_reregister(shared_receiver, server_id):
    rx = shared_receiver
    first = rx.post("/register", registration_payload(server_id, hostname="build-1"))
    assert first.status_code == 201
    assert first.json()["created"] is True
    rx.post("/heartbeat", slim_heartbeat(server_id))
    rx.post("/heartbeat", slim_heartbeat(server_id))
    before = rx.get(f"/servers/{server_id}").json()

    again = rx.post("/register", registration_payload(server_id, hostname="build-2",
                                                      started_at="2025-06-02T00:00:00Z"))

    assert again.status_code == 200
    assert again.json()["created"] is False
    after = rx.get(f"/servers/{server_id}").json()
    assert after["hostname"] == "build-2"
    assert after["started_at"] == "2025-06-02T00:00:00Z"
    assert after["registered_at"] == before["registered_at"]
    assert after["heartbeat_count"] == before["heartbeat_count"] == 2
    assert after["last_seen"] > before["last_seen"]


def test_register_stores_every_field_plus_bookkeeping(shared_receiver, server_id):
    rx = shared_receiver
    payload = registration_payload(server_id)
    rx.post("/register", payload)
    record = rx.get(f"/servers/{server_id}").json()
    for field, value in payload.items():
        assert record[field] == value, field
    assert record["heartbeat_count"] == 0
    assert record["registered_at"] == record["last_seen"] == record["first_seen"]
    assert record["registered_at"].endswith("Z")


def test_registration_after_heartbeats_sets_registered_at_once(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/heartbeat", slim_heartbeat(server_id))
    assert rx.get(f"/servers/{server_id}").json()["registered_at"] is None
    assert rx.post("/register", registration_payload(server_id)).status_code == 200
    registered = rx.get(f"/servers/{server_id}").json()
    assert registered["registered_at"] is not None
    assert registered["heartbeat_count"] == 1
    rx.post("/register", registration_payload(server_id))
    assert rx.get(f"/servers/{server_id}").json()["registered_at"] == registered["registered_at"]


def test_delete(shared_receiver, server_id):
    rx = shared_receiver
    rx.post("/register", registration_payload(server_id))
    response = rx.delete(f"/servers/{server_id}")
    assert response.status_code == 204
    assert response.content == b""
    missing = rx.get(f"/servers/{server_id}")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert rx.delete(f"/servers/{server_id}").status_code == 404


def test_server_ids_with_slashes_and_unicode_round_trip(shared_receiver, server_id):
    rx = shared_receiver
    odd = f"{server_id}/über host"
    rx.post("/register", registration_payload(odd))
    from urllib.parse import quote

    assert rx.get(f"/servers/{quote(odd, safe='')}").json()["server_id"] == odd


def test_heartbeat_answer_is_the_documented_object(shared_receiver, server_id):
    """The heartbeat answer is encoded apart from the other routes' (it is
    most of the traffic); it must still be exactly the documented JSON, for
    ids JSON must escape too."""
    rx = shared_receiver
    for sid in (server_id, f'{server_id}-"quoted"\\slash', f"{server_id}-é-\u2028-😀"):
        for created in (True, False):
            response = rx.post("/heartbeat", enriched_payload(sid))
            assert response.status_code == 200
            record = rx.get("/servers/" + requests.utils.quote(sid, safe="")).json()
            assert response.json() == {"status": "ok", "server_id": sid, "created": created,
                                       "heartbeat_count": record["heartbeat_count"],
                                       "last_seen": record["last_seen"]}
            assert response.content.decode("utf-8").startswith('{"status":"ok","server_id":')


def test_register_answer_is_the_documented_object(shared_receiver, server_id):
    rx = shared_receiver
    for sid, created in ((server_id, True), (server_id, False), (f'{server_id}-"é"\\', True)):
        response = rx.post("/register", registration_payload(sid))
        assert response.status_code == (201 if created else 200)
        assert response.headers["Content-Type"] == "application/json"
        record = rx.get("/servers/" + requests.utils.quote(sid, safe="")).json()
        assert response.json() == {"status": "ok", "server_id": sid, "created": created,
                                   "heartbeat_count": record["heartbeat_count"],
                                   "last_seen": record["last_seen"],
                                   "registered_at": record["registered_at"]}
