"""Settings > MCP: admins only; saving a new receiver URL registers with it."""

import pytest

from .conftest import wait_threads


@pytest.fixture
def plain_user(env_factory):
    with env_factory() as env:
        return env["res.users"].create({"name": "Plain", "login": "plain"}).id


def save_settings(env_factory, uid=None, **values):
    kwargs = {} if uid is None else {"uid": uid}
    with env_factory(**kwargs) as env:
        env["res.config.settings"].create(values).execute()


def test_admin_saves_settings_into_system_parameters(env_factory, get_param, receiver, hostname):
    save_settings(env_factory, uid=2, mcp_phone_home_url=receiver.url,
                  mcp_phone_home_token="tok", mcp_server_port=8443)
    assert get_param("mcp.phone_home_url") == receiver.url
    assert get_param("mcp.phone_home_token") == "tok"
    assert get_param("mcp.server_port") == "8443"


def test_plain_user_cannot_read_or_change_settings(env_factory, plain_user):
    from odoo.exceptions import AccessError
    with pytest.raises(AccessError):
        save_settings(env_factory, uid=plain_user, mcp_phone_home_url="http://evil.test")
    with pytest.raises(AccessError), env_factory(uid=plain_user) as env:
        env["ir.config_parameter"].get_param("mcp.phone_home_token")


def test_a_new_receiver_url_registers_once_saved(env_factory, receiver, hostname, get_param):
    save_settings(env_factory, uid=2, mcp_phone_home_url=receiver.url)
    wait_threads()
    assert receiver.paths() == ["/register"]
    assert get_param("mcp.last_hostname") == "host-a"


def test_switching_receivers_registers_with_the_new_one(env_factory, hostname, get_param):
    from .conftest import RecordingReceiver
    first, second = RecordingReceiver(), RecordingReceiver()
    try:
        save_settings(env_factory, uid=2, mcp_phone_home_url=first.url)
        wait_threads()
        save_settings(env_factory, uid=2, mcp_phone_home_url=second.url)
        wait_threads()
        save_settings(env_factory, uid=2, mcp_phone_home_url=second.url)  # unchanged: nothing
        wait_threads()
    finally:
        first.close()
        second.close()
    assert first.paths() == ["/register"]
    assert second.paths() == ["/register"]


def test_settings_view_names_only_existing_fields(env_factory):
    with env_factory() as env:
        view = env.ref("odoo_dev_mcp.res_config_settings_view_form")
        assert view.model == "res.config.settings"
        for name in ("mcp_phone_home_url", "mcp_phone_home_token", "mcp_server_port"):
            assert f'name="{name}"' in view.arch_db or f"name='{name}'" in view.arch_db
