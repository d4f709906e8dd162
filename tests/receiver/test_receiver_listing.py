"""GET /servers over HTTP: shape, filters, sorting, paging."""

from __future__ import annotations

import pytest
from receiver_support import enriched_payload, registration_payload, slim_heartbeat

STAGES = ["production", "staging", "dev", ""]


@pytest.fixture(scope="module")
def fleet(shared_receiver):
    rx = shared_receiver
    for n in range(24):
        rx.post("/register", registration_payload(
            f"fleet{n:02d}_odoo-{n:02d}.example", hostname=f"ODOO-{n:02d}.example",
            odoo_stage=STAGES[n % 4], odoo_version=["16.0", "17.0"][n % 2]))
    for _ in range(3):
        rx.post("/heartbeat", slim_heartbeat("fleet05_odoo-05.example"))
    rx.post("/heartbeat", enriched_payload("fleet07_odoo-07.example", odoo_stage="",
                                                            hostname="ODOO-07.example"))
    return rx


def test_shape(fleet):
    body = fleet.get("/servers").json()
    assert body["count"] == len(body["servers"]) == body["total"] == 24
    first = body["servers"][0]
    for field in ("server_id", "hostname", "database", "odoo_stage", "odoo_version", "last_seen",
                  "heartbeat_count", "status"):
        assert field in first, field
    assert first["status"] == "online"
    assert first["last_seen"].endswith("Z")


def test_default_order_is_server_id(fleet):
    ids = [s["server_id"] for s in fleet.get("/servers").json()["servers"]]
    assert ids == sorted(ids)


def test_paging(fleet):
    seen = []
    for offset in range(0, 24, 5):
        body = fleet.get("/servers", params={"limit": 5, "offset": offset}).json()
        assert body["total"] == 24
        assert (body["limit"], body["offset"]) == (5, offset)
        seen += [s["server_id"] for s in body["servers"]]
    assert len(seen) == len(set(seen)) == 24
    assert fleet.get("/servers", params={"offset": 100}).json()["servers"] == []


def test_sorting(fleet):
    top = fleet.get("/servers", params={"sort": "-heartbeat_count", "limit": 2}).json()["servers"]
    assert [s["server_id"] for s in top] == ["fleet05_odoo-05.example", "fleet07_odoo-07.example"]
    assert [s["heartbeat_count"] for s in top] == [3, 1]
    same = fleet.get("/servers", params={"sort": "heartbeat_count", "order": "desc", "limit": 2})
    assert same.json()["servers"] == top
    newest = fleet.get("/servers", params={"sort": "-last_seen", "limit": 1}).json()["servers"]
    assert newest[0]["server_id"] == "fleet07_odoo-07.example"


def test_filters(fleet):
    staging = fleet.get("/servers", params={"stage": "staging"}).json()
    assert staging["total"] == 6
    assert {s["odoo_stage"] for s in staging["servers"]} == {"staging"}
    two = fleet.get("/servers", params={"stage": "staging,dev"}).json()
    assert two["total"] == 12
    found = fleet.get("/servers", params={"q": "odoo-1"}).json()  # hostname, any case
    assert {s["server_id"][:7] for s in found["servers"]} == {f"fleet1{n}" for n in range(10)}
    by_id = fleet.get("/servers", params={"q": "FLEET2"}).json()
    assert by_id["total"] == 4
    assert fleet.get("/servers", params={"status": "online"}).json()["total"] == 24
    assert fleet.get("/servers", params={"status": "late,offline"}).json()["total"] == 0
    combined = fleet.get("/servers", params={"status": "online", "stage": "production",
                                             "q": "odoo-0"}).json()
    assert [s["server_id"][:7] for s in combined["servers"]] == ["fleet00", "fleet04", "fleet08"]


def test_single_record_has_fields_at_top_level(fleet):
    record = fleet.get("/servers/fleet07_odoo-07.example").json()
    assert record["server_id"] == "fleet07_odoo-07.example"
    assert record["ip_addresses"]["primary"] == "10.1.2.3"
    assert record["heartbeat_count"] == 1
    assert "record" not in record and "data" not in record


def test_health(fleet):
    body = fleet.get("/health").json()
    assert body["status"] == "ok"
    assert body["version"]
