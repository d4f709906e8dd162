"""The minute cron (seed 000 §3): a new hostname is registered before the heartbeat."""

import threading

import pytest
from freezegun import freeze_time

from .conftest import flavour


@pytest.fixture
def no_pause(monkeypatch):
    from odoo.addons.odoo_dev_mcp.services import phone_home
    monkeypatch.setattr(phone_home.time, "sleep", lambda seconds: None)


def test_new_hostname_registers_before_the_heartbeat(run_cron, configured, get_param):
    assert run_cron() is True
    assert configured.paths() == ["/register", "/heartbeat"]
    register, heartbeat = (call["json"] for call in configured.calls)
    assert register["hostname"] == heartbeat["hostname"] == "host-a"
    assert get_param("mcp.last_hostname") == "host-a"


def test_unchanged_hostname_only_heartbeats(run_cron, configured):
    run_cron()
    run_cron()
    assert configured.paths() == ["/register", "/heartbeat", "/heartbeat"]


def test_rebuild_between_runs_registers_the_new_hostname(run_cron, configured, hostname):
    run_cron()
    hostname("host-b")
    run_cron()
    assert [(c["path"], c["json"]["hostname"]) for c in configured.calls] == [
        ("/register", "host-a"), ("/heartbeat", "host-a"),
        ("/register", "host-b"), ("/heartbeat", "host-b")]


def test_no_receiver_url_sends_nothing(run_cron, receiver, hostname):
    assert run_cron() is False
    assert receiver.calls == []


def test_receiver_down_heartbeat_reported_failed(run_cron, configured, no_pause, get_param, caplog):
    configured.status.update({"/register": 503, "/heartbeat": 503})
    assert run_cron() is False
    assert get_param("mcp.last_hostname") != "host-a"
    assert "heartbeat" in caplog.text and "failed" in caplog.text


def test_failed_registration_retried_by_a_later_run(run_cron, configured, no_pause, get_param):
    from odoo.addons.odoo_dev_mcp.services import phone_home, registration
    configured.status["/register"] = 500
    with freeze_time("2026-01-01 00:00:00") as frozen:
        run_cron()
        assert configured.paths() == ["/register"] * phone_home.REGISTER_ATTEMPTS + ["/heartbeat"]
        configured.status["/register"] = 201
        frozen.tick(registration.RETRY_AFTER_SECONDS + 30)  # the next minute
        configured.calls.clear()
        assert run_cron() is True
    assert configured.paths() == ["/register", "/heartbeat"]
    assert get_param("mcp.last_hostname") == "host-a"


def test_waits_for_another_workers_registration_before_its_heartbeat(run_cron, configured,
                                                                      registry):
    """A health thread of another worker holds the claim: the cron must not register again,
    and its heartbeat must not overtake that registration."""
    from odoo import SUPERUSER_ID, api
    from odoo.addons.odoo_dev_mcp.services import registration
    claim = registration._try_claim(registry, "host-a")
    assert claim

    def other_worker_finishes():
        with registry.cursor() as cr:
            registration.phone_home.register_server(api.Environment(cr, SUPERUSER_ID, {}))
        registration._finish(registry, "host-a", claim, True)

    later = threading.Timer(0.5, other_worker_finishes)
    later.start()
    try:
        assert run_cron() is True
    finally:
        later.join()
    assert configured.paths() == ["/register", "/heartbeat"]


def test_cron_record_runs_every_minute(env_factory):
    with env_factory() as env:
        cron = env.ref("odoo_dev_mcp.ir_cron_mcp_heartbeat")
        assert (cron.interval_number, cron.interval_type, cron.active) == (1, "minutes", True)
        assert cron.code.strip() == "model._cron_send_heartbeat()"
        if flavour() == "17.0":
            assert cron.numbercall == -1  # otherwise Odoo 17 runs it once and deactivates it
        else:
            assert "numbercall" not in cron._fields


def test_scheduler_fires_it_each_minute(registry, configured, hostname):
    """Through Odoo's own scheduler: three simulated minutes, three heartbeats, one registration."""
    with freeze_time("2030-01-01 00:00:00") as frozen:
        for _minute in range(3):
            frozen.tick(61)
            registry["ir.cron"]._process_jobs(registry.db_name)
    assert configured.paths() == ["/register", "/heartbeat", "/heartbeat", "/heartbeat"]
    uptimes = [c["json"]["uptime_seconds"] for c in configured.calls[1:]]
    assert [round(b - a) for a, b in zip(uptimes, uptimes[1:], strict=False)] == [61, 61]
