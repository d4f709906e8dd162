"""The tool registry that `capabilities` reports and the future /mcp/v1 serves."""

import json
import re

import pytest


@pytest.fixture
def call(env_factory, hostname):
    from odoo.addons.odoo_dev_mcp.mcp_tools.registry import call_tool

    def call_(name, params=None):
        with env_factory() as env:
            return call_tool(env, name, params)
    return call_


def test_schemas_follow_mcp_tools_list():
    from odoo.addons.odoo_dev_mcp.mcp_tools.registry import get_tool_schemas
    schemas = get_tool_schemas()
    assert [s["name"] for s in schemas] == sorted(s["name"] for s in schemas)
    for schema in schemas:
        assert set(schema) == {"name", "title", "description", "inputSchema", "outputSchema",
                               "annotations"}
        assert re.fullmatch(r"[a-z0-9_]{1,64}", schema["name"])
        assert schema["inputSchema"]["type"] == "object"
        assert "anyOf" not in json.dumps(schema)  # some clients reject it
        assert schema["outputSchema"]["type"] == "object"
        assert schema["annotations"] == {"readOnlyHint": True, "destructiveHint": False,
                                         "idempotentHint": True, "openWorldHint": False}


def test_tool_names_are_checked():
    from odoo.addons.odoo_dev_mcp.mcp_tools.registry import tool
    with pytest.raises(ValueError, match="a-z0-9_"):
        tool("Bad-Name", "no")


def test_server_info(call, dbname):
    from .conftest import flavour
    info = call("server_info")
    assert info["database"] == dbname
    assert info["hostname"] == "host-a"
    assert info["odoo_version"] == flavour()
    assert info["addon_version"] == "1.0.0"
    assert info["uptime_seconds"] >= 0


def test_list_installed_modules(call):
    result = call("list_installed_modules")
    names = [m["name"] for m in result["modules"]]
    assert {"base", "odoo_dev_mcp"} <= set(names)
    assert names == sorted(names)
    assert result["count"] == len(names)


def test_list_installed_modules_filter_and_limit(call):
    assert [m["name"] for m in call("list_installed_modules", {"name_contains": "dev_mcp"})[
        "modules"]] == ["odoo_dev_mcp"]
    limited = call("list_installed_modules", {"limit": 1})
    assert len(limited["modules"]) == 1 and limited["count"] >= 2


@pytest.mark.parametrize("name, params, message", [
    ("no_such_tool", {}, "unknown tool"),
    ("list_installed_modules", {"limit": "3"}, "must be of type integer"),
    ("list_installed_modules", {"limit": True}, "must be of type integer"),
    ("list_installed_modules", {"limit": 0}, ">= 1"),
    ("list_installed_modules", {"colour": "red"}, "unknown argument"),
    ("server_info", ["not", "an", "object"], "must be a JSON object"),
])
def test_bad_calls_raise_tool_error(call, name, params, message):
    from odoo.addons.odoo_dev_mcp.mcp_tools.registry import ToolError
    with pytest.raises(ToolError, match=message):
        call(name, params)


def test_a_tool_name_cannot_be_registered_twice(monkeypatch):
    from odoo.addons.odoo_dev_mcp.mcp_tools import registry
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    with pytest.raises(ValueError, match="registered twice"):
        registry.tool("server_info", "again")(lambda env, params: None)
