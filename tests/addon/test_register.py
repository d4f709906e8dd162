"""register_server(): shared payload plus started_at, bounded retries with capped backoff."""

import json
import logging
import time

import pytest
import responses
from freezegun import freeze_time

URL = "http://receiver.test"


@pytest.fixture
def register(env_factory, set_params, hostname, monkeypatch):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    set_params(mcp__phone_home_url=URL)
    pauses = []
    monkeypatch.setattr(phone_home.time, "sleep", pauses.append)

    def register_():
        with env_factory() as env:
            return phone_home.register_server(env)
    register_.pauses = pauses
    return register_


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def test_registration_payload_is_the_shared_payload_plus_started_at(register, mocked, env_factory,
                                                                    monkeypatch):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    mocked.post(f"{URL}/register", json={}, status=201)
    with freeze_time("2026-05-06 07:08:09"):
        monkeypatch.setattr(phone_home, "_server_start_time", time.time() - 30)
        assert register() is True
    body = json.loads(mocked.calls[0].request.body)
    with env_factory() as env:
        expected = phone_home._build_server_payload(env)
    assert {key: body[key] for key in expected} == expected
    assert set(body) == set(expected) | {"started_at"}
    assert body["started_at"] == "2026-05-06T07:07:39Z"


@pytest.mark.parametrize("status", [200, 201])
def test_acknowledged(register, mocked, status):
    mocked.post(f"{URL}/register", json={}, status=status)
    assert register() is True
    assert len(mocked.calls) == 1


def test_retries_server_errors_with_capped_backoff_then_gives_up(register, mocked, caplog):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    mocked.post(f"{URL}/register", json={}, status=503)
    with caplog.at_level(logging.WARNING):
        assert register() is False
    assert len(mocked.calls) == phone_home.REGISTER_ATTEMPTS
    assert register.pauses == [0.5, 1.0]
    assert all(pause <= phone_home.BACKOFF_CAP_SECONDS for pause in register.pauses)
    assert "HTTP 503" in caplog.text


def test_succeeds_on_a_later_attempt(register, mocked):
    mocked.post(f"{URL}/register", json={}, status=500)
    mocked.post(f"{URL}/register", json={}, status=201)
    assert register() is True
    assert len(mocked.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_client_errors_are_final(register, mocked, status):
    mocked.post(f"{URL}/register", json={}, status=status)
    assert register() is False
    assert len(mocked.calls) == 1


def test_connection_refused_is_retried_then_false(register, set_params, closed_port):
    set_params(mcp__phone_home_url=f"http://127.0.0.1:{closed_port}")
    assert register() is False
    assert len(register.pauses) == 2


def test_whole_call_stays_within_its_budget(register, set_params, silent_server, monkeypatch):
    """A receiver that accepts and never answers: the call ends by the budget, not by luck."""
    from odoo.addons.odoo_dev_mcp.services import phone_home
    monkeypatch.setattr(phone_home, "REGISTER_BUDGET_SECONDS", 1.0)
    set_params(mcp__phone_home_url=silent_server)
    started = time.monotonic()
    assert register() is False
    assert time.monotonic() - started < 1.0 + 0.5
