"""Install: keys exist from install on; registration once the install has committed."""

import pytest

from .conftest import wait_threads


def test_keys_exist_right_after_install(get_param):
    assert get_param("mcp.last_hostname") == "-"
    assert get_param("mcp.registration_claim") == "000000000000 -"


def test_install_with_a_configured_receiver_registers_after_commit(make_database, sim_config,
                                                                   receiver, hostname):
    sim_config["mcp_phone_home_url"] = receiver.url  # odoo.conf: fleet-wide setting
    try:
        registry = make_database()
        wait_threads()
    finally:
        sim_config["mcp_phone_home_url"] = ""
    assert receiver.paths() == ["/register"]
    assert receiver.calls[0]["json"]["database"] == registry.db_name


def test_a_failed_install_registers_nothing(make_database, sim_config, receiver, hostname,
                                            monkeypatch):
    from odoo.addons.odoo_dev_mcp import hooks
    original = hooks.post_init_hook

    def failing_hook(env):
        original(env)
        raise RuntimeError("install breaks after the hook")

    monkeypatch.setattr(hooks, "post_init_hook", failing_hook)
    import odoo.addons.odoo_dev_mcp as addon
    monkeypatch.setattr(addon, "post_init_hook", failing_hook)
    sim_config["mcp_phone_home_url"] = receiver.url
    try:
        with pytest.raises(RuntimeError, match="install breaks"):
            make_database()
        wait_threads()
    finally:
        sim_config["mcp_phone_home_url"] = ""
    assert receiver.calls == []
