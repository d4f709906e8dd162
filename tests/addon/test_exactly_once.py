"""Exactly once, for real: N forked workers that see a new hostname at the same moment send ONE
registration, health and cron together included; a failed one is tried again later."""

import pytest

from .conftest import wait_threads
from .workers import run_in_workers


@pytest.fixture
def server(backend, make_database, set_params_in, receiver, hostname):
    registry = make_database()
    set_params_in(registry, mcp__phone_home_url=receiver.url)
    hostname("rebuilt-1")
    return registry


@pytest.fixture
def set_params_in():
    from odoo import SUPERUSER_ID, api

    def set_(registry, **values):
        with registry.cursor() as cr:
            icp = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].sudo()
            for key, value in values.items():
                icp.set_param(key.replace("__", "."), value)
    return set_


def health_request(dbname):
    """A worker answering GET /mcp/v1/health, then letting its registration thread finish."""
    def job():
        from werkzeug.test import Client

        import odoo.http
        response = Client(odoo.http.root).get("/mcp/v1/health")
        wait_threads()
        return response.status_code
    return job


def cron_run(dbname):
    def job():
        from odoo import SUPERUSER_ID, api
        from odoo.modules.registry import Registry
        with Registry(dbname).cursor() as cr:
            return api.Environment(cr, SUPERUSER_ID, {})["mcp.heartbeat"]._cron_send_heartbeat()
    return job


def registrations(receiver):
    return [call for call in receiver.calls if call["path"] == "/register"]


@pytest.mark.parametrize("workers", [2, 8])
def test_concurrent_health_requests_register_once(server, client_db, receiver, workers):
    statuses = run_in_workers([health_request(server.db_name)] * workers)
    assert statuses == [200] * workers
    (registration,) = registrations(receiver)
    assert registration["json"]["hostname"] == "rebuilt-1"


def test_health_and_cron_together_register_once(server, client_db, receiver):
    dbname = server.db_name
    run_in_workers([health_request(dbname)] * 4 + [cron_run(dbname)] * 2)
    assert len(registrations(receiver)) == 1
    # the heartbeats of the cron runs come after the registration, never before it
    paths = receiver.paths()
    assert paths[0] == "/register" and paths.count("/heartbeat") == 2


def test_concurrent_claims_one_winner(server, receiver):
    from odoo.addons.odoo_dev_mcp.services import registration

    def claim():
        return registration.ensure_registered(server.db_name, "rebuilt-1", "health")

    outcomes = run_in_workers([claim] * 6)
    assert outcomes.count(registration.REGISTERED) == 1
    assert set(outcomes) <= {registration.REGISTERED, registration.IN_FLIGHT,
                             registration.ALREADY_REPORTED}
    assert len(registrations(receiver)) == 1


def test_failed_registration_is_retried_by_a_later_worker(server, receiver, monkeypatch):
    from freezegun import freeze_time

    from odoo.addons.odoo_dev_mcp.services import phone_home, registration
    monkeypatch.setattr(phone_home.time, "sleep", lambda seconds: None)
    receiver.status["/register"] = 503

    def claim():
        return registration.ensure_registered(server.db_name, "rebuilt-1", "health")

    with freeze_time("2026-01-01 00:00:00") as frozen:
        first = run_in_workers([claim] * 4)
        assert first.count(registration.FAILED) == 1
        assert len(registrations(receiver)) == phone_home.REGISTER_ATTEMPTS
        receiver.status["/register"] = 201
        assert set(run_in_workers([claim] * 2)) == {registration.BACKING_OFF}
        frozen.tick(registration.RETRY_AFTER_SECONDS + 1)
        again = run_in_workers([claim] * 4)
    assert again.count(registration.REGISTERED) == 1
    assert len(registrations(receiver)) == phone_home.REGISTER_ATTEMPTS + 1


def test_a_worker_that_died_mid_registration_does_not_block_forever(server, receiver):
    """Its claim is a lease: once expired, another worker registers."""
    from freezegun import freeze_time

    from odoo.addons.odoo_dev_mcp.services import registration
    with freeze_time("2026-01-01 00:00:00") as frozen:
        assert registration._try_claim(server, "rebuilt-1")  # then the worker is killed
        assert registration.ensure_registered(server.db_name, "rebuilt-1", "cron") == \
            registration.IN_FLIGHT
        frozen.tick(registration.CLAIM_LEASE_SECONDS + 1)
        assert registration.ensure_registered(server.db_name, "rebuilt-1", "cron") == \
            registration.REGISTERED
    assert len(registrations(receiver)) == 1


@pytest.fixture
def client_db(server, sim_config):
    """Workers serve the server's database (config['db_name'], as odoo-bin -d)."""
    from .conftest import set_db_name
    saved = sim_config["db_name"]
    set_db_name(sim_config, [server.db_name])
    yield server.db_name
    sim_config["db_name"] = saved
