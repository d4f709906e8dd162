"""A client's mistake is a 4xx with a JSON body naming it, and nothing is stored."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from receiver_support import enriched_payload

MAX_BODY = 64 * 1024
JSON = {"Content-Type": "application/json"}


def _body(value) -> bytes:
    return json.dumps(value).encode()


# (case id, body bytes, headers, expected status, expected error code, expected field)
CASES = [
    ("invalid-json", b'{"server_id": "bad-json-1",', JSON, 400, "invalid_json", None),
    ("empty-body", b"", JSON, 400, "invalid_json", None),
    ("array-body", b'[{"server_id": "bad-array"}]', JSON, 400, "invalid_body", None),
    ("string-body", b'"bad-string"', JSON, 400, "invalid_body", None),
    ("null-body", b"null", JSON, 400, "invalid_body", None),
    ("nan", b'{"server_id": "bad-nan", "uptime_seconds": NaN}', JSON, 400, "invalid_json", None),
    ("not-utf8", b'{"server_id": "bad-\xff"}', JSON, 400, "invalid_json", None),
    ("lone-surrogate", b'{"server_id": "bad-surrogate", "hostname": "\\ud800"}', JSON, 400,
     "invalid_json", None),
    ("deep-nesting", b'{"server_id": "bad-deep", "x": ' + b"[" * 30000 + b"]" * 30000 + b"}",
     JSON, 400, "invalid_json", None),
    ("text-plain", _body({"server_id": "bad-ctype-1"}), {"Content-Type": "text/plain"}, 415,
     "unsupported_media_type", None),
    ("form", b"server_id=bad-ctype-2", {"Content-Type": "application/x-www-form-urlencoded"},
     415, "unsupported_media_type", None),
    ("no-content-type", _body({"server_id": "bad-ctype-3"}), {}, 415, "unsupported_media_type",
     None),
    ("missing-server-id", _body({"hostname": "bad-missing"}), JSON, 400, "missing_field",
     "server_id"),
    ("empty-server-id", _body({"server_id": ""}), JSON, 400, "invalid_field", "server_id"),
    ("blank-server-id", _body({"server_id": "   "}), JSON, 400, "invalid_field", "server_id"),
    ("int-server-id", _body({"server_id": 12345}), JSON, 400, "invalid_field", "server_id"),
    ("null-server-id", _body({"server_id": None}), JSON, 400, "invalid_field", "server_id"),
    ("long-server-id", _body({"server_id": "x" * 256}), JSON, 400, "invalid_field", "server_id"),
    ("control-char-server-id", _body({"server_id": "bad\nid"}), JSON, 400, "invalid_field",
     "server_id"),
    ("port-string", _body(enriched_payload("bad-port-1", port="8069")), JSON, 400,
     "invalid_field", "port"),
    ("port-float", _body(enriched_payload("bad-port-2", port=8069.5)), JSON, 400,
     "invalid_field", "port"),
    ("port-bool", _body(enriched_payload("bad-port-3", port=True)), JSON, 400, "invalid_field",
     "port"),
    ("port-range", _body(enriched_payload("bad-port-4", port=70000)), JSON, 400,
     "invalid_field", "port"),
    ("capabilities-string", _body(enriched_payload("bad-caps-1", capabilities="a,b")), JSON,
     400, "invalid_field", "capabilities"),
    ("capabilities-ints", _body(enriched_payload("bad-caps-2", capabilities=[1, 2])), JSON, 400,
     "invalid_field", "capabilities"),
    ("ip-addresses-string", _body(enriched_payload("bad-ip-1", ip_addresses="10.0.0.1")),
     JSON, 400, "invalid_field", "ip_addresses"),
    ("ip-addresses-all-string",
     _body(enriched_payload("bad-ip-2", ip_addresses={"primary": "10.0.0.1", "all": "x"})),
     JSON, 400, "invalid_field", "ip_addresses"),
    ("ip-addresses-primary-int", _body(enriched_payload("bad-ip-3", ip_addresses={"primary": 5})),
     JSON, 400, "invalid_field", "ip_addresses"),
    ("hostname-int", _body(enriched_payload("bad-host-1", hostname=5)), JSON, 400,
     "invalid_field", "hostname"),
    ("hostname-null", _body(enriched_payload("bad-host-2", hostname=None)), JSON, 400,
     "invalid_field", "hostname"),
    ("odoo-version-number", _body(enriched_payload("bad-ov", odoo_version=17.0)), JSON, 400,
     "invalid_field", "odoo_version"),
    ("stage-list", _body(enriched_payload("bad-stage", odoo_stage=["dev"])), JSON, 400,
     "invalid_field", "odoo_stage"),
    ("uptime-string", _body(enriched_payload("bad-up-1", uptime_seconds="12")), JSON, 400,
     "invalid_field", "uptime_seconds"),
    ("uptime-negative", _body(enriched_payload("bad-up-2", uptime_seconds=-1)), JSON, 400,
     "invalid_field", "uptime_seconds"),
    ("hostname-too-long", _body(enriched_payload("bad-host-3", hostname="h" * 1025)), JSON, 400,
     "invalid_field", "hostname"),
]


def _stored_ids(rx) -> set[str]:
    body = rx.get("/servers", params={"limit": 10000}).json()
    return {server["server_id"] for server in body["servers"]}


@pytest.mark.parametrize("endpoint", ["/heartbeat", "/register"])
@pytest.mark.parametrize(
    ("body", "headers", "status", "error", "field"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rejected_with_json_and_nothing_stored(shared_receiver, endpoint, body, headers, status,
                                               error, field):
    rx = shared_receiver
    before = _stored_ids(rx)

    response = requests.post(f"{rx.url}{endpoint}", data=body, headers=headers, timeout=10)

    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    problem = response.json()
    assert problem["error"] == error
    assert problem["message"]
    assert problem.get("field") == field
    assert _stored_ids(rx) == before


def _raw_exchange(url: str, request: bytes, read_timeout: float = 5) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def test_oversized_content_length_is_refused_without_reading_the_body(shared_receiver):
    rx = shared_receiver
    before = _stored_ids(rx)
    started = time.monotonic()
    # Announce 50 MB, send 100 bytes: an answer proves the body was not awaited.
    raw = _raw_exchange(
        rx.url,
        b"POST /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000\r\n\r\n" + b'{"server_id": "bad-huge"' + b" " * 76,
    )
    status, headers, body = _split_response(raw)
    assert time.monotonic() - started < 5
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"] == "payload_too_large"
    assert _stored_ids(rx) == before


def test_oversized_chunked_body_is_refused(shared_receiver):
    rx = shared_receiver
    chunk = b"x" * 8192
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10))
    raw = _raw_exchange(
        rx.url,
        b"POST /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n",
    )
    status, headers, body = _split_response(raw)
    assert status == 413
    assert json.loads(body)["error"] == "payload_too_large"


def test_body_of_exactly_the_limit_is_accepted(shared_receiver, server_id):
    rx = shared_receiver
    payload = enriched_payload(server_id, padding="")
    payload["padding"] = "p" * (MAX_BODY - len(_body(payload)))  # unknown fields are not capped
    body = _body(payload)
    assert len(body) == MAX_BODY

    assert requests.post(f"{rx.url}/heartbeat", data=body, headers=JSON, timeout=10).status_code == 200
    response = requests.post(f"{rx.url}/heartbeat", data=body + b" ", headers=JSON, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert rx.get(f"/servers/{server_id}").json()["heartbeat_count"] == 1


def test_unknown_route_is_json_404(shared_receiver):
    response = shared_receiver.get("/nope")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"
    assert shared_receiver.get("/servers/").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("GET", "/heartbeat", "POST"), ("PUT", "/register", "POST"), ("POST", "/servers", "GET"),
     ("PATCH", "/servers/x", None), ("POST", "/health", "GET")],
)
def test_wrong_method_is_json_405(shared_receiver, method, path, allowed):
    response = requests.request(method, f"{shared_receiver.url}{path}", timeout=10)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "method_not_allowed"
    if allowed:
        assert allowed in response.headers["Allow"]


@pytest.mark.parametrize(
    "request_bytes",
    [b"POST /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n",
     b"GARBAGE\r\n\r\n"],
)
def test_malformed_http_is_a_json_400_and_stores_nothing(shared_receiver, request_bytes):
    # Broken HTTP framing is answered by waitress before the app sees
    # anything; receiver/server.py makes that answer JSON too.
    before = _stored_ids(shared_receiver)
    status, headers, body = _split_response(_raw_exchange(shared_receiver.url, request_bytes))
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"] == "bad_request"
    assert _stored_ids(shared_receiver) == before


@pytest.mark.parametrize(
    "query",
    ["status=sleepy", "sort=password", "limit=0", "limit=abc", "limit=100000", "offset=-1",
     "order=up", "q=" + "x" * 300],
)
def test_bad_listing_parameters_are_400(shared_receiver, query):
    response = shared_receiver.get(f"/servers?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert response.json()["field"] == query.split("=")[0]


def test_never_html(shared_receiver):
    for response in (
        shared_receiver.get("/nope"),
        requests.get(f"{shared_receiver.url}/heartbeat", timeout=10),
        requests.post(f"{shared_receiver.url}/heartbeat", data=b"{", headers=JSON, timeout=10),
    ):
        assert "html" not in response.headers["Content-Type"]
        assert b"<html" not in response.content.lower()
