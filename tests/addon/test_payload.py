"""Seed 001: Shared Server Payload Builder, Odoo Stage Detection."""

import ast

import pytest

from .conftest import ADDONS, flavour

SEED_FIELDS = {"server_id", "hostname", "ip_addresses", "port", "transport", "version",
               "odoo_version", "database", "capabilities", "odoo_stage"}
PAYLOAD_FIELDS = SEED_FIELDS | {"mcp_url", "database_uuid"}


@pytest.fixture
def build(env_factory, hostname):
    from odoo.addons.odoo_dev_mcp.services import phone_home

    def build_():
        with env_factory() as env:
            return phone_home._build_server_payload(env)
    return build_


def test_payload_has_the_ten_seed_fields_and_where_agents_connect(build):
    assert set(build()) == PAYLOAD_FIELDS


def test_mcp_url_and_database_uuid(build, set_params):
    set_params(web__base__url="https://erp.example.com/", database__uuid="0f1e2d3c")
    payload = build()
    assert payload["mcp_url"] == "https://erp.example.com/mcp/v1"
    assert payload["database_uuid"] == "0f1e2d3c"


def test_payload_values(build, dbname):
    payload = build()
    assert payload["server_id"] == f"{dbname}_host-a"
    assert payload["hostname"] == "host-a"
    assert payload["database"] == dbname
    assert payload["transport"] == "http/sse"
    assert payload["version"] == "1.0.0"
    assert payload["odoo_version"] == flavour()
    assert payload["ip_addresses"] == {"primary": "10.0.0.7", "all": ["10.0.0.7"]}


def test_server_id_follows_the_hostname(build, hostname, dbname):
    hostname("host-b")
    payload = build()
    assert (payload["server_id"], payload["hostname"]) == (f"{dbname}_host-b", "host-b")


def test_capabilities_are_the_sorted_tool_registry(build):
    from odoo.addons.odoo_dev_mcp.mcp_tools.registry import get_tool_registry
    capabilities = build()["capabilities"]
    assert capabilities == sorted(get_tool_registry())
    assert {"server_info", "list_installed_modules"} <= set(capabilities)


def test_capabilities_are_dynamic(build, monkeypatch):
    from odoo.addons.odoo_dev_mcp.mcp_tools import registry
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.tool("aaa_new_tool", "A tool added later")(lambda env, params: None)
    assert build()["capabilities"][0] == "aaa_new_tool"


def test_port_defaults_to_odoo_http_port(build, sim_config, monkeypatch):
    monkeypatch.setitem(sim_config, "http_port", 8169)
    assert build()["port"] == 8169


@pytest.mark.parametrize("configured, expected", [("9000", 9000), ("0", 8069), ("nope", 8069),
                                                  ("70000", 8069)])
def test_port_from_setting(build, set_params, configured, expected):
    set_params(mcp__server_port=configured)
    port = build()["port"]
    assert port == expected and isinstance(port, int)


def test_stage_production(build, monkeypatch):
    monkeypatch.setenv("ODOO_STAGE", "production")
    assert build()["odoo_stage"] == "production"


def test_stage_unset_is_empty_string(build, monkeypatch):
    monkeypatch.delenv("ODOO_STAGE", raising=False)
    assert build()["odoo_stage"] == ""


def test_manifest_version_is_the_payload_version():
    from odoo.addons.odoo_dev_mcp.services.version import ADDON_VERSION
    manifest = ast.literal_eval((ADDONS / "odoo_dev_mcp" / "__manifest__.py").read_text())
    assert manifest["version"] == ADDON_VERSION


def test_installed_version_is_adapted_to_the_series(env_factory):
    with env_factory() as env:
        module = env["ir.module.module"].search([("name", "=", "odoo_dev_mcp")])
        assert module.state == "installed"
        assert module.latest_version == f"{flavour()}.1.0.0"
