"""The read tier's tools through POST /mcp/v1 on the simulated Odoo: what each returns, as whom
(an internal user without access to a model gets isError, not rows), bounds and truncation, and
every result valid against the tool's outputSchema."""

import json

import pytest

from .conftest import flavour, request

READ_TOOLS = {"instance_info", "list_models", "get_model_fields", "search_read", "count_records",
              "get_record", "read_group", "list_modules", "get_module_info", "resolve_xmlid"}


@pytest.fixture
def schemas(mcp):
    tools = mcp(request("tools/list"), key="internal").body["result"]["tools"]
    return {tool["name"]: tool for tool in tools}


@pytest.fixture
def call(mcp, schemas):
    """Call a tool; a successful result is checked against its outputSchema."""
    import jsonschema

    def call_(name, arguments=None, key="admin"):
        result = mcp(request("tools/call", {"name": name, "arguments": arguments or {}}),
                     key=key).body["result"]
        if not result["isError"]:
            jsonschema.validate(result["structuredContent"], schemas[name]["outputSchema"])
            assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
            return result["structuredContent"]
        return result
    return call_


def refused(result, word="AccessError"):
    return result.get("isError") is True and word in result["content"][0]["text"]


def test_internal_users_see_the_read_tier(schemas):
    assert READ_TOOLS <= set(schemas)
    for name in READ_TOOLS:
        tool = schemas[name]
        assert tool["title"] and len(tool["description"]) > 40
        assert tool["outputSchema"]["type"] == "object"
        assert "anyOf" not in json.dumps(tool)
        assert tool["annotations"]["readOnlyHint"] is True


def test_instance_info(call, dbname, set_params, monkeypatch):
    set_params(mcp__allowed_origins="https://a.example, https://b.example")
    monkeypatch.setenv("ODOO_STAGE", "staging")
    info = call("instance_info", key="internal")
    assert info["odoo_version"] == flavour() and info["odoo_serie"] == flavour()
    assert info["edition"] == "community"
    assert info["database"] == dbname and len(info["database_uuid"]) == 36
    assert info["odoo_stage"] == "staging"
    assert info["base_url"].startswith("http")
    assert info["user"]["login"] == "internal"
    assert info["company"]["name"] == "My Company"
    assert info["installed_modules"] >= 2
    assert info["safety"] == {"allowed_origins": ["https://a.example", "https://b.example"]}


def test_list_models_only_readable_ones(call):
    mine = {row["model"] for row in call("list_models", key="internal")["models"]}
    admins = {row["model"] for row in call("list_models")["models"]}
    assert "res.users" in mine and "ir.config_parameter" not in mine  # group_system only
    assert "ir.config_parameter" in admins
    found = call("list_models", {"name_contains": "config_param"})
    assert [row["model"] for row in found["models"]] == ["ir.config_parameter"]
    cut = call("list_models", {"limit": 1})
    assert len(cut["models"]) == 1 and cut["truncated"] and cut["count"] > 1


def test_get_model_fields(call):
    fields = call("get_model_fields", {"model": "res.users"}, key="internal")
    by_name = {row["name"]: row for row in fields["fields"]}
    assert by_name["login"]["type"] == "char" and by_name["login"]["required"] is True
    assert by_name["company_id"]["relation"] == "res.company"
    state = call("get_model_fields", {"model": "ir.module.module", "name_contains": "state",
                                      "attributes": ["selection"]})["fields"]
    assert ["installed", "Installed"] in state[0]["selection"] and "type" not in state[0]
    many2one = call("get_model_fields", {"model": "res.users", "types": ["many2one"]})["fields"]
    assert {row["type"] for row in many2one} == {"many2one"}
    assert refused(call("get_model_fields", {"model": "ir.config_parameter"}, key="internal"))
    assert refused(call("get_model_fields", {"model": "no.such"}), "unknown model")


def test_search_read_as_the_user(call):
    rows = call("search_read", {"model": "res.users", "domain": [["login", "=", "admin"]],
                                "fields": ["name", "company_id", "create_date"]}, key="internal")
    assert rows["count"] == 1 and rows["truncated"] is False
    admin = rows["records"][0]
    assert admin["name"] == "Administrator"
    assert admin["company_id"][1] == "My Company"  # many2one: [id, name]
    assert isinstance(admin["create_date"], str) and "T" in admin["create_date"]  # ISO
    everything = call("search_read", {"model": "res.users"}, key="internal")["records"][0]
    assert {"name", "login", "company_id"} <= set(everything)
    # no access: an error the agent reads, not rows
    denied = call("search_read", {"model": "ir.config_parameter"}, key="internal")
    assert refused(denied) and "records" not in json.dumps(denied.get("structuredContent", {}))


@pytest.mark.parametrize("arguments, message", [
    ({"model": "res.users", "domain": "[('id', '=', 1)]"}, "type array"),
    ({"model": "res.users", "domain": [["id", "=="]]}, "domain term"),
    ({"model": "res.users", "domain": [["nope", "=", 1]]}, "Odoo refused"),
    ({"model": "res.users", "fields": ["nope"]}, "unknown field"),
    ({"model": "res.users", "order": "nope desc"}, "Odoo refused"),
    ({"model": "res.users", "limit": 501}, "<= 500"),
    ({"model": "no.such"}, "unknown model"),
])
def test_search_read_bad_arguments(call, arguments, message):
    assert refused(call("search_read", arguments), message)


def test_search_read_pages_and_bounds(call, env_factory, monkeypatch):
    with env_factory() as env:
        env["res.users"].create([{"name": f"User {n:02}", "login": f"u{n:02}"} for n in range(12)])
    first = call("search_read", {"model": "res.users", "domain": [["login", "=like", "u%"]],
                                 "fields": ["login"], "limit": 5, "order": "login"})
    assert [row["login"] for row in first["records"]] == [f"u{n:02}" for n in range(5)]
    assert first["truncated"] and first["next_offset"] == 5
    last = call("search_read", {"model": "res.users", "domain": [["login", "=like", "u%"]],
                                "fields": ["login"], "offset": 10, "order": "login"})
    assert last["count"] == 2 and not last["truncated"] and "next_offset" not in last
    from odoo.addons.odoo_dev_mcp.mcp_tools import read_tools
    monkeypatch.setattr(read_tools, "MAX_BYTES", 200)
    cut = call("search_read", {"model": "res.users", "fields": ["login", "name"]})
    assert cut["truncated"] and 0 < cut["count"] < 12
    assert len(json.dumps(cut["records"])) <= 200
    assert cut["next_offset"] == cut["count"]


def test_count_records(call):
    assert call("count_records", {"model": "res.users"}, key="internal")["count"] >= 3
    limited = call("count_records", {"model": "res.users", "limit": 1})
    assert limited == {"model": "res.users", "count": 1, "limit_reached": True}
    assert refused(call("count_records", {"model": "ir.cron"}, key="internal"))


def test_get_record(call, env_factory):
    with env_factory() as env:
        admin_id = env.ref("base.user_admin").id
        root_id = env.ref("base.user_root").id
    got = call("get_record", {"model": "res.users", "id": admin_id, "fields": ["login"]},
               key="internal")
    assert got["record"] == {"id": admin_id, "login": "admin"} and not got["truncated"]
    archived = call("get_record", {"model": "res.users", "id": root_id, "fields": ["active"]})
    assert archived["record"]["active"] is False
    assert refused(call("get_record", {"model": "res.users", "id": 99999}), "no res.users record")
    assert refused(call("get_record", {"model": "ir.cron", "id": 1}, key="internal"))


def test_get_record_cuts_a_huge_value(call, env_factory, monkeypatch):
    from odoo.addons.odoo_dev_mcp.mcp_tools import read_tools
    monkeypatch.setattr(read_tools, "MAX_BYTES", 300)
    with env_factory() as env:
        group = env["res.groups"].create({"name": "Big", "comment": "x" * 5000})
        group_id = group.id
    got = call("get_record", {"model": "res.groups", "id": group_id})
    assert got["truncated"] and got["record"]["comment"].endswith("[cut]")
    assert len(json.dumps(got["record"])) <= 300


def test_read_group(call):
    groups = call("read_group", {"model": "res.users", "groupby": ["share"],
                                 "aggregates": ["id:count"]}, key="internal")["groups"]
    assert [group["share"] for group in groups] == [False, True]
    assert all(group["__count"] == group["id:count"] for group in groups)
    by_company = call("read_group", {"model": "res.users", "groupby": ["company_id"]})["groups"]
    assert by_company[0]["company_id"][1] == "My Company"
    total = call("read_group", {"model": "res.users", "groupby": []})["groups"]
    assert len(total) == 1 and total[0]["__count"] >= 3
    cut = call("read_group", {"model": "res.users", "groupby": ["login"], "limit": 2})
    assert cut["count"] == 2 and cut["truncated"]
    assert refused(call("read_group", {"model": "ir.cron", "groupby": ["active"]}, key="internal"))
    assert refused(call("read_group", {"model": "res.users", "groupby": ["login"],
                                       "aggregates": ["id:median"]}), "aggregate")
    assert refused(call("read_group", {"model": "res.users", "groupby": ["nope"]}), "Odoo refused")


def test_list_modules_for_internal_users(call):
    listed = call("list_modules", {"name_contains": "dev_mcp"}, key="internal")
    assert [row["name"] for row in listed["modules"]] == ["odoo_dev_mcp"]
    module = listed["modules"][0]
    assert module["state"] == "installed"
    assert module["installed_version"] == module["available_version"] == f"{flavour()}.1.0.0"
    assert module["update_pending"] is False
    every = call("list_modules", {"state": "installed"})
    assert {"base", "odoo_dev_mcp"} <= {row["name"] for row in every["modules"]}
    cut = call("list_modules", {"limit": 1})
    assert len(cut["modules"]) == 1 and cut["truncated"]
    assert call("list_modules", {"update_pending": True})["modules"] == []


def test_get_module_info(call):
    info = call("get_module_info", {"name": "odoo_dev_mcp"}, key="internal")
    assert info["state"] == "installed" and info["license"]
    assert {"name": "base", "state": "installed"} in info["dependencies"]
    assert refused(call("get_module_info", {"name": "no_such_module"}), "no module")


def test_resolve_xmlid_only_what_the_user_may_read(call):
    admin = call("resolve_xmlid", {"xmlid": "base.user_admin"}, key="internal")
    assert (admin["model"], admin["display_name"]) == ("res.users", "Administrator")
    company = call("resolve_xmlid", {"xmlid": "base.main_company"}, key="internal")
    assert company["model"] == "res.company"
    cron = "odoo_dev_mcp.ir_cron_mcp_heartbeat"
    assert call("resolve_xmlid", {"xmlid": cron})["model"] == "ir.cron"
    assert refused(call("resolve_xmlid", {"xmlid": cron}, key="internal"))
    assert refused(call("resolve_xmlid", {"xmlid": "base.nothing_here"}), "not found")
    assert refused(call("resolve_xmlid", {"xmlid": "no_dot"}), "module.name")


def test_values_are_json_safe():
    import datetime

    from odoo.addons.odoo_dev_mcp.mcp_tools.read_tools import _json_safe
    assert _json_safe({"d": datetime.date(2026, 1, 2), "b": b"abc", "t": (1, "x")}) == {
        "d": "2026-01-02", "b": {"bytes": 3}, "t": [1, "x"]}
