"""GET /mcp/v1/health: liveness, and request-triggered registration after a rebuild (seed 000 §2)."""

import json

import pytest

from .conftest import flavour, set_db_name, wait_threads


def health(client):
    response = client.get("/mcp/v1/health")
    return response.status_code, json.loads(response.get_data(as_text=True))


@pytest.fixture
def statements(monkeypatch):
    """Every SQL statement any cursor of this process runs while recording."""
    from odoo import sql_db
    seen = []
    original = sql_db.Cursor.execute

    def execute(self, query, params=None, *args, **kwargs):
        seen.append(str(query).strip().split()[0].upper())
        return original(self, query, params, *args, **kwargs)

    monkeypatch.setattr(sql_db.Cursor, "execute", execute)
    return seen


def test_health_answers_json(client, hostname):
    status, body = health(client)
    assert status == 200
    assert body == {"status": "ok", "version": "1.0.0", "odoo_version": flavour()}


def test_new_hostname_registers_in_the_background_after_commit(client, configured, get_param):
    status, _body = health(client)
    assert status == 200
    wait_threads()
    assert configured.paths() == ["/register"]
    assert configured.calls[0]["json"]["hostname"] == "host-a"
    assert get_param("mcp.last_hostname") == "host-a"


def test_unchanged_hostname_registers_nothing(client, configured):
    health(client)
    wait_threads()
    health(client)
    health(client)
    wait_threads()
    assert configured.paths() == ["/register"]


def test_steady_state_makes_no_database_write(client, configured, statements):
    health(client)
    wait_threads()
    assert "UPDATE" in statements, "the recorder must see the registration's writes"
    health(client)  # the first read after the change fills this process's cache
    statements.clear()
    for _ in range(3):
        assert health(client)[0] == 200
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements)
    assert configured.paths() == ["/register"]


def test_after_a_rebuild_the_new_hostname_is_reported(client, configured, hostname, get_param):
    health(client)
    wait_threads()
    hostname("host-b")
    health(client)
    wait_threads()
    assert [c["json"]["hostname"] for c in configured.calls] == ["host-a", "host-b"]
    assert get_param("mcp.last_hostname") == "host-b"


def test_health_does_not_wait_for_the_receiver(client, configured):
    configured.gate.clear()  # the receiver accepts but does not answer yet
    status, _body = health(client)
    assert status == 200
    assert configured.calls == []  # answered while the registration is still blocked
    configured.gate.set()
    wait_threads()
    assert configured.paths() == ["/register"]


def test_no_receiver_url_no_registration(client, receiver, hostname, statements):
    assert health(client)[0] == 200
    wait_threads()
    assert receiver.calls == []
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements)


def test_the_thread_never_touches_the_request_cursor(client, configured, monkeypatch):
    """The registration thread runs on cursors of its own: not one statement of it goes
    through the request's cursor (closed, or worse shared, by the time the thread runs)."""
    import threading

    from odoo import sql_db
    from odoo.addons.odoo_dev_mcp.services import registration
    request_cursors, used_by_thread = [], []
    schedule, execute = registration.schedule_after_commit, sql_db.Cursor.execute

    def spy_schedule(env, trigger):
        request_cursors.append(env.cr)
        return schedule(env, trigger)

    def spy_execute(cursor, *args, **kwargs):
        if threading.current_thread().name.startswith("mcp-register"):
            used_by_thread.append(cursor)
        return execute(cursor, *args, **kwargs)

    monkeypatch.setattr(registration, "schedule_after_commit", spy_schedule)
    monkeypatch.setattr(sql_db.Cursor, "execute", spy_execute)
    health(client)
    wait_threads()
    assert configured.paths() == ["/register"]
    assert request_cursors and used_by_thread
    assert all(cursor is not request_cursors[0] for cursor in used_by_thread)


def test_a_rolled_back_transaction_starts_no_registration(registry, configured):
    from odoo import SUPERUSER_ID, api
    from odoo.addons.odoo_dev_mcp.services import registration
    cr = registry.cursor()
    try:
        env = api.Environment(cr, SUPERUSER_ID, {})
        assert registration.schedule_after_commit(env, "health") is True
        cr.rollback()
    finally:
        cr.close()
    wait_threads()
    assert configured.calls == []


def test_registration_starts_only_once_committed(registry, configured):
    from odoo import SUPERUSER_ID, api
    from odoo.addons.odoo_dev_mcp.services import registration
    with registry.cursor() as cr:
        registration.schedule_after_commit(api.Environment(cr, SUPERUSER_ID, {}), "health")
        wait_threads()
        assert configured.calls == []
    wait_threads()
    assert configured.paths() == ["/register"]


def test_request_sees_no_database_liveness_only(make_database, sim_config, hostname, monkeypatch):
    """Two databases and no db_name: no database is selected. Like real Odoo, the route of a
    module that is not server-wide is then 404; loaded with --load it answers liveness."""
    from werkzeug.test import Client

    import odoo.http
    make_database()
    make_database()
    saved_db = sim_config["db_name"]
    set_db_name(sim_config, [])
    try:
        assert Client(odoo.http.root).get("/mcp/v1/health").status_code == 404
        wide = sim_config._as_list("server_wide_modules") + ["odoo_dev_mcp"]
        as_list = isinstance(sim_config["server_wide_modules"], list)
        saved_wide = sim_config["server_wide_modules"]
        sim_config["server_wide_modules"] = wide if as_list else ",".join(wide)
        try:
            status, body = health(Client(odoo.http.root))
        finally:
            sim_config["server_wide_modules"] = saved_wide
    finally:
        sim_config["db_name"] = saved_db
    assert (status, body["status"]) == (200, "ok")


def test_failed_registration_is_retried_by_a_later_request(client, configured, get_param):
    from freezegun import freeze_time
    configured.status["/register"] = 500
    with freeze_time("2026-01-01 00:00:00") as frozen:
        health(client)
        wait_threads()
        assert get_param("mcp.last_hostname") != "host-a"
        attempts = len(configured.calls)
        configured.status["/register"] = 201
        health(client)  # within the back-off: nobody tries yet
        wait_threads()
        assert len(configured.calls) == attempts
        frozen.tick(31)
        health(client)
        wait_threads()
    assert configured.paths()[-1] == "/register"
    assert len(configured.calls) == attempts + 1
    assert get_param("mcp.last_hostname") == "host-a"
