"""The addon against six ways real Odoo is stricter than the simulated Odoo once was
(src/odoo/README.md, "Strict where real Odoo was stricter"): each test fails on an addon that
ignores the behaviour, on the flavours that have it. Behaviour 2 includes Odoo's test mode (an
HttpCase): there a read-only route cannot open the read/write cursors the registration needs."""

import json
import logging

import pytest

from .conftest import flavour, wait_threads
from .workers import run_in_workers


def health(client):
    response = client.get("/mcp/v1/health")
    return response.status_code


# ---------------------------------------------------------------- 1. writes survive the commit
def test_one_registration_then_health_and_cron_register_no_more(client, configured, run_cron,
                                                                 get_param):
    """mcp.last_hostname is written in a transaction of the registration's own: on 17/18 it is
    lost at commit if the env that wrote it is gone, and every trigger registers again."""
    assert health(client) == 200
    wait_threads()
    assert get_param("mcp.last_hostname") == "host-a"
    for _ in range(2):
        assert health(client) == 200
        wait_threads()
    assert run_cron() is True
    assert configured.paths() == ["/register", "/heartbeat"]


# ---------------------------------------------------------------- 2. read-only routes (18/19)
@pytest.fixture
def read_only_pool(sim_config, make_database):
    """A registry with a read-only pool (a replica, or --test-enable: tests/addon/conftest.py
    configures one for the whole suite): 18/19 serve auth='none' routes on a read-only cursor
    first."""
    assert sim_config["db_replica_host"]
    registry = make_database()
    with registry.cursor(**({"readonly": True} if flavour() != "17.0" else {})) as cr:
        assert getattr(cr, "readonly", False) == (flavour() != "17.0")
    return registry


def test_health_on_a_read_only_cursor_answers_and_registers_once(read_only_pool, sim_config,
                                                                  set_params_in, receiver,
                                                                  hostname, caplog):
    from werkzeug.test import Client

    import odoo.http

    from .conftest import set_db_name
    registry = read_only_pool
    set_params_in(registry, mcp__phone_home_url=receiver.url)
    saved = sim_config["db_name"]
    set_db_name(sim_config, [registry.db_name])
    try:
        client = Client(odoo.http.root)
        with caplog.at_level(logging.WARNING):
            statuses = [health(client) for _ in range(3)]
            wait_threads()
    finally:
        sim_config["db_name"] = saved
    assert statuses == [200, 200, 200]
    assert receiver.paths() == ["/register"]
    assert not [r for r in caplog.records if "read/write cursor" in r.getMessage()]


def test_health_under_odoo_test_mode_registers_once(configured, hostname, client, caplog):
    """An HttpCase puts the registry in test mode: every cursor is a TestCursor over the test's
    own, and the registration runs inline inside the health request. On 18/19 a read-only
    request's TestCursor forbids opening a read/write one ("Opening a read/write test cursor from
    a readonly one"): the addon's in-Odoo tests failed so on real 18/19."""
    import odoo.modules.module
    from odoo.tests.common import HttpCase

    class HealthCase(HttpCase):
        def runTest(self):
            pass

    receiver = configured
    hostname("test-mode-host")
    saved = odoo.modules.module.current_test
    HealthCase.setUpClass()
    try:
        test = HealthCase()
        # what Odoo's runner sets: 17 the module's name (at_install), 18/19 the running test
        odoo.modules.module.current_test = "odoo_dev_mcp" if flavour() == "17.0" else test
        test.setUp()
        try:
            with caplog.at_level(logging.WARNING):
                status = test.url_open("/mcp/v1/health").status_code
                wait_threads()
            reported = test.env["ir.config_parameter"].get_param("mcp.last_hostname")
        finally:
            test.doCleanups()
    finally:
        odoo.modules.module.current_test = saved
        HealthCase.doClassCleanups()
    errors = [(r.getMessage(), repr(r.exc_info[1]) if r.exc_info else None)
              for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert status == 200
    assert [call["json"]["hostname"] for call in receiver.calls if call["path"] == "/register"] \
        == ["test-mode-host"]
    assert reported == "test-mode-host"          # seen by the test, in its own transaction


@pytest.fixture
def set_params_in():
    from odoo import SUPERUSER_ID, api

    def set_(registry, **values):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for key, value in values.items():
                env["ir.config_parameter"].set_param(key.replace("__", "."), value)
    return set_


# ---------------------------------------------------------------- 3. the receiver's secrets
SECRET_URL = "https://fleet.example/secret-path"
SECRET_TOKEN = "tok-0123456789"
SECRET_FIELDS = ["mcp_phone_home_url", "mcp_phone_home_token"]


@pytest.fixture
def users(env_factory, set_params):
    """An internal user who is not a Settings admin, and a portal user."""
    set_params(mcp__phone_home_url=SECRET_URL, mcp__phone_home_token=SECRET_TOKEN)
    with env_factory() as env:
        Users = env["res.users"]
        gfield = Users._groups_field_name()
        internal = Users.create({"name": "Internal", "login": "internal"})
        portal = Users.create({"name": "Portal", "login": "portal", "share": True,
                               gfield: [env.ref("base.group_portal").id]})
        assert not internal.has_group("base.group_system")
        return {"internal": internal.id, "portal": portal.id}


@pytest.mark.parametrize("who", ["internal", "portal"])
def test_non_admins_get_no_receiver_secret_from_any_settings_path(env_factory, users, who):
    from odoo.exceptions import AccessError
    with env_factory(uid=users[who]) as env:
        settings = env["res.config.settings"]
        seen = [settings.default_get(SECRET_FIELDS + ["mcp_server_port"])]
        spec = {name: {} for name in SECRET_FIELDS}
        try:
            seen.append(settings.onchange({}, [], spec))
        except AccessError:
            pass  # 19 checks create access on the model first
        for call in (lambda: settings.search_read([], SECRET_FIELDS),
                     lambda: settings.browse().read(SECRET_FIELDS),
                     lambda: env["ir.config_parameter"].get_param("mcp.phone_home_token")):
            try:
                seen.append(call())
            except AccessError:
                pass
    leaked = json.dumps(seen, default=str)
    assert SECRET_URL not in leaked and SECRET_TOKEN not in leaked


def test_admins_get_the_receiver_settings(env_factory, users):
    with env_factory(uid=2) as env:
        settings = env["res.config.settings"]
        assert settings.default_get(SECRET_FIELDS) == {
            "mcp_phone_home_url": SECRET_URL, "mcp_phone_home_token": SECRET_TOKEN}
        values = settings.onchange({}, [], {name: {} for name in SECRET_FIELDS})["value"]
        assert values == {"mcp_phone_home_url": SECRET_URL, "mcp_phone_home_token": SECRET_TOKEN}
        record = settings.create({})
        assert record.read(SECRET_FIELDS)[0]["mcp_phone_home_token"] == SECRET_TOKEN


# ---------------------------------------------------------------- 4. no "bad query" for a lost race
def test_racing_workers_log_no_bad_query(make_database, set_params_in, receiver, hostname,
                                         sim_config):
    from .conftest import set_db_name
    from .test_exactly_once import cron_run, health_request
    registry = make_database()
    set_params_in(registry, mcp__phone_home_url=receiver.url)
    hostname("rebuilt-1")
    saved = sim_config["db_name"]
    set_db_name(sim_config, [registry.db_name])
    logs = []
    try:
        for _round in range(2):
            run_in_workers([health_request(registry.db_name)] * 6 + [cron_run(registry.db_name)] * 2,
                           logs=logs)
            hostname(f"rebuilt-{_round + 2}")
    finally:
        sim_config["db_name"] = saved
    assert [r for r in logs if r["name"] == "odoo.sql_db" and r["level"] == "ERROR"] == []
    assert [call["json"]["hostname"] for call in receiver.calls if call["path"] == "/register"] \
        == ["rebuilt-1", "rebuilt-2"]


# ---------------------------------------------------------------- 5. install: no signal warning
def test_install_with_a_configured_receiver_logs_no_warning(make_database, sim_config, receiver,
                                                             hostname, caplog):
    """The install registers from its post-commit callback, while the registry still loads:
    18/19 warn about a signal_changes() then."""
    sim_config["mcp_phone_home_url"] = receiver.url
    try:
        with caplog.at_level(logging.WARNING):
            make_database()
            wait_threads()
    finally:
        sim_config["mcp_phone_home_url"] = ""
    assert receiver.paths() == ["/register"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# ---------------------------------------------------------------- 6. configuration file
@pytest.fixture
def odoo_conf(sim_config, tmp_path, caplog):
    """`load(text)`: odoo-bin -c <file>, as this flavour reads it; the WARNINGs it logged."""
    saved_options = dict(sim_config.options) if not hasattr(sim_config, "_file_options") else None
    saved_misc = dict(getattr(sim_config, "misc", {}))
    saved_rcfile = vars(sim_config).get("rcfile")
    saved_runtime = dict(getattr(sim_config, "_runtime_options", {}))

    def load(text):
        path = tmp_path / "odoo.conf"
        path.write_text(text)
        with caplog.at_level(logging.WARNING, logger="odoo.tools.config"):
            sim_config.parse_config(["-c", str(path)])
        if saved_options is None:
            # a fresh odoo-bin: no value set at runtime by an earlier test hides the file's
            for key in sim_config._file_options:
                sim_config._runtime_options.pop(key, None)
        return [r.getMessage() for r in caplog.records
                if r.name == "odoo.tools.config" and r.levelno >= logging.WARNING]

    yield load
    if saved_options is None:  # 19: layered options
        sim_config._file_options.clear()
        sim_config._cli_options.clear()
        sim_config._runtime_options.update(saved_runtime)
    else:
        sim_config.options.clear()
        sim_config.options.update(saved_options)
        sim_config.misc.clear()
        sim_config.misc.update(saved_misc)
        sim_config.rcfile = saved_rcfile


def test_odoo_conf_section_configures_the_receiver_without_a_warning(odoo_conf, make_database,
                                                                      receiver, hostname):
    warnings = odoo_conf(f"[options]\nhttp_port = 8069\n\n"
                         f"[odoo_dev_mcp]\nphone_home_url = {receiver.url}\n")
    make_database()
    wait_threads()
    assert warnings == []
    assert receiver.paths() == ["/register"]


def test_legacy_options_key_draws_odoo_19s_warning(odoo_conf, make_database, receiver, hostname):
    warnings = odoo_conf(f"[options]\nmcp_phone_home_url = {receiver.url}\n")
    make_database()
    wait_threads()
    assert receiver.paths() == ["/register"]   # still honoured
    if flavour() == "19.0":
        assert len(warnings) == 1 and "unknown option 'mcp_phone_home_url'" in warnings[0]
    else:
        assert warnings == []


def test_environment_variable_configures_the_receiver(monkeypatch, make_database, receiver,
                                                      hostname):
    monkeypatch.setenv("MCP_PHONE_HOME_URL", receiver.url)
    make_database()
    wait_threads()
    assert receiver.paths() == ["/register"]
