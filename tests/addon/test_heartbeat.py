"""Seed 001: Heartbeat Payload, Server Uptime Tracking; no retry, bounded time, no secret leaks."""

import logging
from datetime import datetime, timezone

import pytest
import requests
import responses
from freezegun import freeze_time

URL = "http://receiver.test"


@pytest.fixture
def send(env_factory, set_params, hostname):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    set_params(mcp__phone_home_url=URL)

    def send_():
        with env_factory() as env:
            return phone_home.send_heartbeat(env)
    return send_


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def sent_json(mocked, index=-1):
    import json
    return json.loads(mocked.calls[index].request.body)


def test_enriched_heartbeat_contains_full_server_info(send, mocked):
    mocked.post(f"{URL}/heartbeat", json={}, status=200)
    assert send() is True
    body = sent_json(mocked)
    assert set(body) == {"server_id", "hostname", "ip_addresses", "port", "transport", "version",
                         "odoo_version", "database", "capabilities", "odoo_stage",
                         "mcp_url", "database_uuid", "status", "timestamp", "uptime_seconds"}
    assert body["status"] == "healthy"
    assert isinstance(body["uptime_seconds"], float)


def test_the_receiver_parses_this_heartbeat_on_its_fast_path(send, mocked):
    """The receiver decodes the addon's heartbeat, most of its traffic, in
    one msgspec call when the body has exactly these fields; a change here
    must not silently send every heartbeat down its slower general path."""
    from receiver.validation import _addon_heartbeat_report
    mocked.post(f"{URL}/heartbeat", json={}, status=200)
    assert send() is True
    body = mocked.calls[-1].request.body
    report = _addon_heartbeat_report(body)
    assert report is not None and bytes(report.json) == body


def test_timestamp_is_iso8601_utc_with_z(send, mocked):
    mocked.post(f"{URL}/heartbeat", json={}, status=200)
    with freeze_time("2026-03-04 05:06:07"):
        send()
    assert sent_json(mocked)["timestamp"] == "2026-03-04T05:06:07Z"
    parsed = datetime.strptime(sent_json(mocked)["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert parsed.replace(tzinfo=timezone.utc).year == 2026


def test_uptime_after_300_seconds(send, mocked, monkeypatch):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    mocked.post(f"{URL}/heartbeat", json={}, status=200)
    with freeze_time("2026-01-01 00:00:00") as frozen:
        monkeypatch.setattr(phone_home, "_server_start_time", phone_home.time.time())
        frozen.tick(300)
        send()
    assert sent_json(mocked)["uptime_seconds"] == pytest.approx(300.0)


def test_uptime_grows_by_60_between_heartbeats_60_seconds_apart(send, mocked, monkeypatch):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    mocked.post(f"{URL}/heartbeat", json={}, status=200)
    with freeze_time("2026-01-01 00:00:00") as frozen:
        monkeypatch.setattr(phone_home, "_server_start_time", phone_home.time.time() - 12.5)
        send()
        frozen.tick(60)
        send()
    first, second = sent_json(mocked, 0), sent_json(mocked, 1)
    assert second["uptime_seconds"] - first["uptime_seconds"] == pytest.approx(60.0)


@pytest.mark.parametrize("status", [200, 201])
def test_success_statuses_return_true(send, mocked, status):
    mocked.post(f"{URL}/heartbeat", json={}, status=status)
    assert send() is True


@pytest.mark.parametrize("status", [500, 503, 404, 401])
def test_error_statuses_return_false_with_a_warning_and_no_retry(send, mocked, status, caplog):
    mocked.post(f"{URL}/heartbeat", json={}, status=status)
    with caplog.at_level(logging.WARNING):
        assert send() is False
    assert len(mocked.calls) == 1
    assert f"HTTP {status}" in caplog.text


def test_connection_refused_returns_false_with_a_warning(send, set_params, closed_port, caplog):
    set_params(mcp__phone_home_url=f"http://127.0.0.1:{closed_port}")
    with caplog.at_level(logging.WARNING):
        assert send() is False
    assert "heartbeat" in caplog.text and "failed" in caplog.text


def test_timeout_returns_false_with_a_warning(send, set_params, silent_server, caplog, monkeypatch):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    monkeypatch.setattr(phone_home, "READ_TIMEOUT_SECONDS", 0.3)
    set_params(mcp__phone_home_url=silent_server)
    with caplog.at_level(logging.WARNING):
        assert send() is False
    assert "timed out" in caplog.text


def test_timeout_reported_as_such(send, mocked, caplog):
    mocked.post(f"{URL}/heartbeat", body=requests.Timeout("read timed out"))
    with caplog.at_level(logging.WARNING):
        assert send() is False
    assert len(mocked.calls) == 1


def test_bearer_token_sent_and_never_logged(send, mocked, set_params, caplog):
    set_params(mcp__phone_home_token="s3cr3t-token")
    mocked.post(f"{URL}/heartbeat", json={}, status=500)
    with caplog.at_level(logging.DEBUG):
        send()
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer s3cr3t-token"
    assert "s3cr3t-token" not in caplog.text
    assert "s3cr3t-token" not in mocked.calls[0].request.body.decode()


def test_no_token_no_authorization_header(send, mocked):
    mocked.post(f"{URL}/heartbeat", json={}, status=200)
    send()
    assert "Authorization" not in mocked.calls[0].request.headers


def test_url_credentials_are_not_logged(send, mocked, set_params, caplog):
    set_params(mcp__phone_home_url="http://user:hunter2@receiver.test/base/")
    mocked.post("http://user:hunter2@receiver.test/base/heartbeat", json={}, status=500)
    with caplog.at_level(logging.WARNING):
        assert send() is False
    assert "hunter2" not in caplog.text
    assert "receiver.test/base/heartbeat" in caplog.text


def test_no_url_returns_false_without_network(env_factory, mocked, hostname):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    with env_factory() as env:
        assert phone_home.send_heartbeat(env) is False
        assert phone_home.register_server(env) is False
    assert len(mocked.calls) == 0


def test_url_from_server_config_when_no_parameter(env_factory, mocked, hostname, sim_config):
    """odoo.conf's `mcp_phone_home_url` (a fleet-wide setting) when System Parameters have none."""
    from odoo.addons.odoo_dev_mcp.services import phone_home
    mocked.post(f"{URL}/heartbeat", json={}, status=200)
    sim_config["mcp_phone_home_url"] = URL
    try:
        with env_factory() as env:
            assert phone_home.send_heartbeat(env) is True
    finally:
        sim_config["mcp_phone_home_url"] = ""  # Odoo's config has no __delitem__


def test_not_an_http_url_is_refused_without_network(send, mocked, set_params, caplog):
    set_params(mcp__phone_home_url="ftp://receiver.test")
    with caplog.at_level(logging.WARNING):
        assert send() is False
    assert len(mocked.calls) == 0
    assert "not an http(s) URL" in caplog.text
