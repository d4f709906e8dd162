"""POST /mcp/v1 on real Odoo, through the official MCP SDK client (legacy and auto modes) and
raw HTTP: API keys, tiers, portal refused, protocol errors."""

import asyncio
import json

import pytest
import requests

from . import odoo_env
from .conftest import unexpected_problems

KEYS_SCRIPT = """
import datetime, inspect, json
users = env['res.users']
groups_field = 'group_ids' if 'group_ids' in users._fields else 'groups_id'
made = {'admin': env.ref('base.user_admin')}
for login, group in (('mcp_internal', 'base.group_user'), ('mcp_portal', 'base.group_portal')):
    made[login] = users.create({'name': login, 'login': login,
                                groups_field: [(6, 0, [env.ref(group).id])]})
keys = {}
for login, user in made.items():
    apikeys = env['res.users.apikeys'].with_user(user)
    args = ['rpc', 'mcp tests']
    if 'expiration_date' in inspect.signature(apikeys._generate).parameters:
        args.append(datetime.datetime.now() + datetime.timedelta(days=1))
    keys[login] = apikeys._generate(*args)
env.cr.commit()
print('KEYS=' + json.dumps(keys))
"""


@pytest.fixture(scope="module")
def served(odoo, template_db, postgres):
    import uuid
    dbname = f"{postgres.prefix}mcp_{uuid.uuid4().hex[:6]}"
    postgres.query("postgres", f'CREATE DATABASE "{dbname}" TEMPLATE "{template_db}" '
                               f'OWNER "{postgres.role}"')
    config = odoo.write_config("mcp")
    out = odoo.shell("mcp-keys", config, dbname, KEYS_SCRIPT)
    keys = json.loads(next(line for line in out.splitlines() if line.startswith("KEYS="))[5:])
    server = odoo.serve("mcp", config, dbname, workers=2)
    server.expect_warnings = []  # what a test's own calls make this server log, by substring
    yield server, keys
    odoo.started.remove(server)
    server.stop()
    problems = unexpected_problems([server.log], server.expect_warnings)
    assert not problems, "Odoo logged:\n" + "\n".join(problems)


def post(server, key, body, **headers):
    if key:
        headers["Authorization"] = f"Bearer {key}"
    headers.setdefault("Accept", "application/json, text/event-stream")
    return requests.post(f"{server.url}/mcp/v1", data=json.dumps(body) if not isinstance(
        body, (bytes, str)) else body, headers={"Content-Type": "application/json", **headers},
        timeout=30)


def sdk_session(server, key, mode):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        http_client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
        async with http_client, Client(streamable_http_client(f"{server.url}/mcp/v1",
                                                              http_client=http_client),
                                       mode=mode) as client:
            session = client.session
            version = (session.initialize_result.protocol_version if session.initialize_result
                       else "2026-07-28")
            tools = await client.list_tools()
            called = await client.call_tool("server_info", {})
            failed = await client.call_tool("list_installed_modules", {"limit": 0})
            return version, tools, called, failed

    return asyncio.run(run())


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_sdk_client_lists_and_calls_tools(served, mode):
    server, keys = served
    version, tools, called, failed = sdk_session(server, keys["admin"], mode)
    assert version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
    names = {tool.name for tool in tools.tools}
    assert {"server_info", "list_installed_modules"} <= names
    assert not called.is_error
    assert called.structured_content["database"] == server.dbname
    assert json.loads(called.content[0].text) == called.structured_content
    assert failed.is_error  # limit below the schema's minimum: the tool's error, not a protocol one


def test_keys_users_and_origins(served):
    server, keys = served
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert post(server, None, ping).status_code == 401
    refused = post(server, "not-a-key", ping)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["error"]["code"]
    assert post(server, keys["mcp_portal"], ping).status_code == 403
    assert post(server, keys["mcp_internal"], ping).json() == {"jsonrpc": "2.0", "id": 1,
                                                                "result": {}}
    assert post(server, keys["admin"], ping, Origin="http://evil.example").status_code == 403
    assert post(server, keys["admin"], ping, Origin=server.url).status_code == 200


def test_protocol_errors(served):
    server, keys = served
    key = keys["admin"]
    assert requests.get(f"{server.url}/mcp/v1", timeout=10).status_code == 405
    assert post(server, key, "{not json").status_code == 400
    assert post(server, key, "{not json").json()["error"]["code"] == -32700
    batch = post(server, key, [{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
    assert (batch.status_code, batch.json()["error"]["code"]) == (400, -32600)
    notification = post(server, key, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert (notification.status_code, notification.text) == (202, "")
    unknown = post(server, key, {"jsonrpc": "2.0", "id": 2, "method": "nope/nope"})
    assert unknown.json()["error"]["code"] == -32601
    old = post(server, key, {"jsonrpc": "2.0", "id": 3, "method": "ping"},
               **{"MCP-Protocol-Version": "1999-01-01"})
    assert old.status_code == 400
    assert "2025-11-25" in old.json()["error"]["message"]


def call(server, key, name, arguments=None):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": name, "arguments": arguments or {}}}
    return post(server, key, body).json()["result"]


def test_read_tools_as_an_internal_user(served):
    """The read tier on real Odoo: as the key's user, errors as isError results, JSON-safe."""
    import jsonschema
    server, keys = served
    internal = keys["mcp_internal"]
    tools = {tool["name"]: tool for tool in post(server, internal, {
        "jsonrpc": "2.0", "id": 1, "method": "tools/list"}).json()["result"]["tools"]}

    def ok(name, arguments=None, key=internal):
        result = call(server, key, name, arguments)
        assert result["isError"] is False, result
        jsonschema.validate(result["structuredContent"], tools[name]["outputSchema"])
        return result["structuredContent"]

    info = ok("instance_info")
    assert info["database"] == server.dbname and info["edition"] == "community"
    assert info["user"]["login"] == "mcp_internal" and info["company"]["name"]
    models = {row["model"] for row in ok("list_models")["models"]}
    assert "res.partner" in models and "ir.config_parameter" not in models
    fields = {row["name"]: row for row in ok("get_model_fields", {"model": "res.partner"})["fields"]}
    assert fields["country_id"]["relation"] == "res.country" and fields["type"]["selection"]
    rows = ok("search_read", {"model": "res.users", "domain": [["login", "=", "admin"]],
                              "fields": ["name", "company_id", "create_date", "image_128"]})
    assert rows["count"] == 1 and rows["omitted_fields"] == ["image_128"]
    assert isinstance(rows["records"][0]["company_id"], list)
    assert "T" in rows["records"][0]["create_date"]
    assert ok("search_read", {"model": "res.partner", "limit": 1})["count"] == 1
    assert ok("count_records", {"model": "res.users"})["count"] >= 2
    record = ok("get_record", {"model": "res.partner", "id": info["company"]["id"],
                               "fields": ["name"]})
    assert record["record"]["id"] == info["company"]["id"]
    groups = ok("read_group", {"model": "res.partner", "groupby": ["type"],
                               "aggregates": ["id:count"]})["groups"]
    assert groups and all(group["__count"] == group["id:count"] for group in groups)
    dated = ok("read_group", {"model": "res.partner", "groupby": ["create_date:month"]})
    assert isinstance(dated["groups"][0]["create_date:month"], str)
    modules = ok("list_modules", {"name_contains": "odoo_dev_mcp"})["modules"]
    assert modules[0]["installed_version"] == modules[0]["available_version"]
    base = ok("get_module_info", {"name": "web"})
    assert {"name": "base", "state": "installed"} in base["dependencies"]
    assert ok("resolve_xmlid", {"xmlid": "base.user_admin"})["model"] == "res.users"

    for name, arguments in (("search_read", {"model": "ir.config_parameter"}),
                            ("count_records", {"model": "ir.cron"}),
                            ("read_group", {"model": "ir.cron", "groupby": ["active"]}),
                            ("resolve_xmlid", {"xmlid": "odoo_dev_mcp.ir_cron_mcp_heartbeat"}),
                            ("search_read", {"model": "res.partner", "domain": [["nope", "=", 1]]})):
        refused = call(server, internal, name, arguments)
        assert refused["isError"] is True and "structuredContent" not in refused, (name, refused)
    assert ok("resolve_xmlid", {"xmlid": "odoo_dev_mcp.ir_cron_mcp_heartbeat"},
              key=keys["admin"])["model"] == "ir.cron"


# ---------------------------------------------------------------- safety and audit

def xmlrpc_as(server, login, key):
    import xmlrpc.client
    common = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common")
    uid = common.authenticate(server.dbname, login, key, {})
    assert uid, login
    models = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        try:
            return models.execute_kw(server.dbname, uid, key, model, method, list(args), kwargs)
        except xmlrpc.client.Fault as fault:
            return f"Fault: {fault.faultString}"
    return call


def test_audit_row_per_call_read_by_admins_only(served, postgres):
    server, keys = served
    before = postgres.query(server.dbname, "SELECT coalesce(max(id), 0) FROM mcp_audit_log")[0][0]
    assert call(server, keys["mcp_internal"], "search_read", {
        "model": "res.partner", "limit": 1, "domain": [["name", "!=", "password"]]})["isError"] is False
    assert call(server, keys["mcp_internal"], "list_installed_modules", {"limit": 0})["isError"]
    assert post(server, "not-a-key", {"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 401
    rows = postgres.query(server.dbname, """
        SELECT u.login, a.api_key_name, a.tool, a.outcome, a.arguments, a.duration_ms,
               a.remote_addr, a.user_agent
          FROM mcp_audit_log a LEFT JOIN res_users u ON u.id = a.user_id
         WHERE a.id > %s ORDER BY a.id""", (before,))
    assert [(row[0], row[1], row[2], row[3]) for row in rows] == [
        ("mcp_internal", "mcp tests", "search_read", "ok"),
        ("mcp_internal", "mcp tests", "list_installed_modules", "tool_error"),
        (None, None, "ping", "refused")]
    assert json.loads(rows[0][4])["model"] == "res.partner"
    assert all(row[5] is not None and row[5] >= 0 for row in rows)
    assert rows[0][6] == "127.0.0.1" and rows[0][7].startswith("python-requests")

    # 18/19 log refused ORM calls at WARNING; 19 warns that XML-RPC is deprecated
    server.expect_warnings += ["'MCP audit log' (mcp.audit.log) records",
                               "endpoints are deprecated in Odoo 19"]
    admin = xmlrpc_as(server, "admin", keys["admin"])
    seen = admin("mcp.audit.log", "search_read", [["id", ">", before]], fields=["tool", "outcome"])
    assert [row["tool"] for row in seen] == ["ping", "list_installed_modules", "search_read"]
    assert admin("mcp.audit.log", "create", {"tool": "forged", "outcome": "ok"}).startswith("Fault")
    internal = xmlrpc_as(server, "mcp_internal", keys["mcp_internal"])
    assert internal("mcp.audit.log", "search_read", [], fields=["tool"]).startswith("Fault")


def test_rate_limit_429_across_workers(served, postgres):
    import time
    server, keys = served
    server.expect_warnings += ["endpoints are deprecated in Odoo 19"]
    admin = xmlrpc_as(server, "admin", keys["admin"])
    key = keys["mcp_internal"]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    if time.gmtime().tm_sec > 45:  # keep the calls inside one minute window
        time.sleep(61 - time.gmtime().tm_sec)
    admin("ir.config_parameter", "set_param", "mcp.rate_limit_per_minute", "3")
    postgres.query(server.dbname, "DELETE FROM mcp_rate_window")  # the earlier tests' calls
    try:
        answers = [post(server, key, ping) for _ in range(4)]  # two workers share the count
        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        limited = answers[-1]
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["error"]["code"] == -32000
        assert post(server, keys["admin"], ping).status_code == 200  # a count per user
    finally:
        admin("ir.config_parameter", "set_param", "mcp.rate_limit_per_minute", False)
    outcome = postgres.query(server.dbname, "SELECT outcome FROM mcp_audit_log ORDER BY id DESC "
                                            "LIMIT 1")[0][0]
    assert outcome == "rate_limited"


def test_audit_views_menu_and_retention_cron_installed(served, postgres):
    server, _keys = served
    views = dict(postgres.query(server.dbname, "SELECT type, arch_db::text FROM ir_ui_view "
                                               "WHERE model = 'mcp.audit.log'"))
    list_type = "tree" if odoo_env.major() == 17 else "list"
    assert set(views) == {list_type, "form", "search"}
    (view_mode,), = postgres.query(server.dbname, "SELECT view_mode FROM ir_act_window "
                                                  "WHERE res_model = 'mcp.audit.log'")
    assert view_mode == f"{list_type},form"
    assert postgres.query(server.dbname, """
        SELECT count(*) FROM ir_ui_menu m JOIN ir_model_data d ON d.res_id = m.id
         AND d.model = 'ir.ui.menu' AND d.module = 'odoo_dev_mcp'""")[0][0] == 2
    columns = {row[0] for row in postgres.query(server.dbname, """
        SELECT column_name FROM information_schema.columns WHERE table_name = 'ir_cron'""")}
    extra = ", c.numbercall" if "numbercall" in columns else ""
    (cron,) = postgres.query(server.dbname, f"""
        SELECT c.active, c.interval_type{extra} FROM ir_cron c JOIN ir_model_data d
            ON d.res_id = c.id AND d.model = 'ir.cron' AND d.name = 'ir_cron_mcp_audit_retention'""")
    assert cron[:2] == (True, "days") and (not extra or cron[2] == -1)


def test_concurrent_calls_are_all_counted_without_errors(served, postgres):
    """8 clients at once on two workers: every call answered, every call counted once, and no
    SerializationFailure in the log (the served fixture checks it)."""
    from concurrent.futures import ThreadPoolExecutor
    server, keys = served
    postgres.query(server.dbname, "DELETE FROM mcp_rate_window")
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: post(server, keys["admin"], ping).status_code,
                                 range(80)))
    assert statuses == [200] * 80
    (total,), = postgres.query(server.dbname, """
        SELECT coalesce(sum(w.calls), 0) FROM mcp_rate_window w
          JOIN res_users u ON u.id = w.user_id WHERE u.login = 'admin'""")
    assert total == 80
