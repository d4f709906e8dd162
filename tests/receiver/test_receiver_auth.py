"""--token: every route but /health needs the bearer token; it is never logged."""

from __future__ import annotations

import pytest
import requests
from receiver_support import receiver_env, registration_payload, slim_heartbeat

TOKEN = "s3cret-Token_for-tests"


@pytest.fixture
def secured(start_receiver):
    return start_receiver("--token", TOKEN)


ROUTES = [
    ("POST", "/register"),
    ("POST", "/heartbeat"),
    ("GET", "/servers"),
    ("GET", "/servers/anything"),
    ("DELETE", "/servers/anything"),
    ("GET", "/no-such-route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer "],
    ids=["absent", "empty", "longer", "shorter", "basic-scheme", "no-scheme", "bearer-empty"],
)
def test_requests_without_the_token_are_401_json(secured, method, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = requests.request(method, f"{secured.url}{path}", headers=headers,
                                json=slim_heartbeat("unauthorized-server"), timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"
    assert TOKEN not in response.text


def test_nothing_is_stored_without_the_token(secured, server_id):
    requests.post(f"{secured.url}/register", json=registration_payload(server_id), timeout=10)
    requests.post(f"{secured.url}/heartbeat", json=slim_heartbeat(server_id), timeout=10)
    listed = requests.get(f"{secured.url}/servers",
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert listed["total"] == 0


def test_the_token_opens_every_route(secured, server_id):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = secured.url
    assert requests.post(f"{url}/register", json=registration_payload(server_id), headers=auth,
                         timeout=10).status_code == 201
    assert requests.post(f"{url}/heartbeat", json=slim_heartbeat(server_id), headers=auth,
                         timeout=10).status_code == 200
    assert requests.get(f"{url}/servers", headers=auth, timeout=10).json()["total"] == 1
    assert requests.get(f"{url}/servers/{server_id}", headers=auth, timeout=10).status_code == 200
    # The scheme is case-insensitive (RFC 7235).
    lower = {"Authorization": f"bearer {TOKEN}"}
    assert requests.delete(f"{url}/servers/{server_id}", headers=lower, timeout=10).status_code == 204


def test_health_needs_no_token(secured):
    response = requests.get(f"{secured.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_token_from_environment(start_receiver, server_id):
    rx = start_receiver(env=receiver_env(RECEIVER_TOKEN=TOKEN))
    assert requests.get(f"{rx.url}/servers", timeout=10).status_code == 401
    assert requests.get(f"{rx.url}/servers", headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).status_code == 200


def test_the_token_never_reaches_the_logs(start_receiver, server_id):
    rx = start_receiver("--token", TOKEN, "--log-level", "debug")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    requests.post(f"{rx.url}/register", json=registration_payload(server_id), headers=auth, timeout=10)
    requests.post(f"{rx.url}/heartbeat", json=slim_heartbeat(server_id), headers=auth, timeout=10)
    requests.get(f"{rx.url}/servers", headers={"Authorization": f"Bearer {TOKEN}-wrong"}, timeout=10)
    requests.get(f"{rx.url}/nope", headers=auth, timeout=10)
    requests.post(f"{rx.url}/heartbeat", data=b"{", headers={**auth, "Content-Type": "application/json"},
                  timeout=10)
    assert rx.stop() == 0
    log = rx.stderr
    assert "registered new server" in log  # the log is really captured
    assert TOKEN not in log
    assert "Authorization" not in log
