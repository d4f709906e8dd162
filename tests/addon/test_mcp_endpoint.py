"""POST /mcp/v1 on the simulated Odoo: the protocol rules (both eras), API keys, users, Origin,
tool failures as results; and the official MCP SDK client over real HTTP."""

import asyncio
import base64
import json
import threading

import pytest

from .conftest import request

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {}}


def modern(mcp, method, params=None, name=None, **headers):
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method, **headers}
    if name:
        headers["Mcp-Name"] = name
    return mcp(request(method, {**(params or {}), "_meta": META}), **headers)


# ---------------------------------------------------------------- who may call

def test_keys_users_and_origins(mcp):
    assert mcp(request("ping"), key=None).status_code == 401
    wrong = mcp(request("ping"), key="not-a-key")
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert "id" not in wrong.body and wrong.body["error"]["message"].startswith("Unauthorized")
    assert mcp(request("ping"), key="portal").status_code == 403
    assert mcp(request("ping"), key="internal").body == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert mcp(request("ping"), Origin="http://evil.example").status_code == 403
    assert mcp(request("ping"), Origin="http://localhost").status_code == 200


def test_a_cookie_session_is_not_a_key(mcp, client):
    client.set_cookie("session_id", "anything", domain="localhost")
    assert mcp(request("ping"), key=None).status_code == 401


# ---------------------------------------------------------------- JSON-RPC over HTTP

def test_transport_errors(mcp, client):
    answer = client.get("/mcp/v1")
    assert (answer.status_code, answer.headers["Allow"]) == (405, "POST")
    assert client.delete("/mcp/v1").status_code == 405
    parse = mcp("{not json")
    assert (parse.status_code, parse.body["error"]["code"]) == (400, -32700)
    assert "id" not in parse.body
    batch = mcp([request("ping")])
    assert (batch.status_code, batch.body["error"]["code"]) == (400, -32600)
    for body in ({"jsonrpc": "1.0", "id": 1, "method": "ping"},
                 {"jsonrpc": "2.0", "id": None, "method": "ping"}, 42):
        assert mcp(body).status_code == 400
    notification = mcp({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert (notification.status_code, notification.data) == (202, b"")
    response = mcp({"jsonrpc": "2.0", "id": 9, "result": {}})
    assert (response.status_code, response.data) == (202, b"")
    unknown = mcp(request("nope/nope"))
    assert (unknown.status_code, unknown.body["error"]["code"]) == (200, -32601)


def test_initialize_negotiates_a_handshake_version(mcp):
    for asked, answered in (("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"),
                            ("2025-03-26", "2025-03-26"), ("2024-01-01", "2025-11-25")):
        result = mcp(request("initialize", {"protocolVersion": asked, "capabilities": {},
                                            "clientInfo": {"name": "t", "version": "1"}})).body
        assert result["result"]["protocolVersion"] == answered
        assert result["result"]["capabilities"] == {"tools": {"listChanged": False}}
        assert result["result"]["serverInfo"]["name"] == "odoo-dev-mcp"


def test_unsupported_version_header_names_the_supported_ones(mcp):
    answer = mcp(request("tools/list"), **{"MCP-Protocol-Version": "1999-01-01"})
    assert answer.status_code == 400
    assert answer.body["error"]["code"] == -32022
    assert answer.body["error"]["data"]["requested"] == "1999-01-01"
    assert "2025-11-25" in answer.body["error"]["data"]["supported"]


def test_tools_list_pages_with_a_cursor(mcp, monkeypatch):
    from odoo.addons.odoo_dev_mcp.services import mcp_protocol
    monkeypatch.setattr(mcp_protocol, "TOOLS_PAGE_SIZE", 1)
    names, cursor = [], None
    for _page in range(100):
        result = mcp(request("tools/list", {"cursor": cursor} if cursor else {})).body["result"]
        names += [tool["name"] for tool in result["tools"]]
        cursor = result.get("nextCursor")
        if cursor is None:
            break
    assert names == sorted(names) and len(names) == len(set(names))
    assert {"list_installed_modules", "server_info", "search_read"} <= set(names)
    assert mcp(request("tools/list", {"cursor": "x"})).body["error"]["code"] == -32602


# ---------------------------------------------------------------- tools

@pytest.fixture
def extra_tools(monkeypatch):
    """Tools that fail in the ways a real one can, registered for one test."""
    from odoo.addons.odoo_dev_mcp.mcp_tools import registry
    from odoo.exceptions import AccessError
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @registry.tool("write_then_fail", "Writes a parameter, then fails.", read_only=False)
    def write_then_fail(env, params):
        env["ir.config_parameter"].sudo().set_param("mcp.test_written", "yes")
        env.flush_all()
        raise RuntimeError("broken tool")

    @registry.tool("refused", "Runs into an access error.")
    def refused(env, params):
        raise AccessError("You are not allowed to access 'Thing' (x.thing) records.")

    @registry.tool("admins_only", "Only for Settings admins.", group="base.group_system")
    def admins_only(env, params):
        return {"ok": True}


def test_tool_results_and_failures(mcp, extra_tools, get_param, caplog):
    called = mcp(request("tools/call", {"name": "server_info", "arguments": {}})).body["result"]
    assert called["isError"] is False
    assert json.loads(called["content"][0]["text"]) == called["structuredContent"]
    assert called["structuredContent"]["hostname"] == "host-a"

    bad = mcp(request("tools/call", {"name": "list_installed_modules", "arguments": {"limit": 0}}))
    assert bad.body["result"]["isError"] is True and "limit" in bad.body["result"]["content"][0]["text"]
    unknown = mcp(request("tools/call", {"name": "no_such_tool"}))
    assert unknown.body["error"]["code"] == -32602

    refused = mcp(request("tools/call", {"name": "refused"})).body["result"]
    assert refused["isError"] is True and "AccessError" in refused["content"][0]["text"]

    with caplog.at_level("ERROR"):
        broken = mcp(request("tools/call", {"name": "write_then_fail"})).body["result"]
    assert broken["isError"] is True and "Traceback" not in broken["content"][0]["text"]
    assert get_param("mcp.test_written") is False  # the savepoint took the write back
    assert any("write_then_fail" in record.getMessage() for record in caplog.records)


def test_what_a_user_may_call_is_what_they_see(mcp, extra_tools):
    def names(key):
        return {tool["name"] for tool in mcp(request("tools/list"), key=key).body["result"]["tools"]}
    assert "admins_only" in names("admin")
    assert "admins_only" not in names("internal")
    hidden = mcp(request("tools/call", {"name": "admins_only"}), key="internal")
    assert hidden.body["error"]["code"] == -32602


# ---------------------------------------------------------------- 2026-07-28

def test_modern_discover_and_lists(mcp):
    discover = modern(mcp, "server/discover")
    assert discover.status_code == 200
    result = discover.body["result"]
    assert MODERN in result["supportedVersions"] and "2025-11-25" in result["supportedVersions"]
    assert {"ttlMs", "cacheScope", "capabilities"} <= set(result)
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "odoo-dev-mcp"
    listed = modern(mcp, "tools/list").body["result"]
    assert listed["cacheScope"] == "private" and listed["ttlMs"] >= 0
    called = modern(mcp, "tools/call", {"name": "server_info", "arguments": {}},
                    name="server_info").body["result"]
    assert called["resultType"] == "complete" and called["isError"] is False


def test_modern_envelope_is_checked(mcp):
    no_meta = mcp(request("tools/list", {}), **{"MCP-Protocol-Version": MODERN,
                                                "Mcp-Method": "tools/list"})
    assert (no_meta.status_code, no_meta.body["error"]["code"]) == (400, -32602)
    wrong_method = modern(mcp, "tools/list", **{"Mcp-Method": "tools/call"})
    assert (wrong_method.status_code, wrong_method.body["error"]["code"]) == (400, -32020)
    wrong_name = modern(mcp, "tools/call", {"name": "server_info"}, name="list_installed_modules")
    assert wrong_name.body["error"]["code"] == -32020
    encoded = "=?base64?" + base64.b64encode(b"server_info").decode() + "?="
    assert modern(mcp, "tools/call", {"name": "server_info"}, name=encoded).status_code == 200
    for removed in ("ping", "initialize"):
        gone = modern(mcp, removed)
        assert (gone.status_code, gone.body["error"]["code"]) == (404, -32601)


# ---------------------------------------------------------------- the official SDK client

@pytest.fixture
def served_over_http(registry, sim_config, keys, hostname):
    from werkzeug.serving import make_server

    import odoo.http

    from .conftest import set_db_name
    saved = sim_config["db_name"]
    set_db_name(sim_config, [registry.db_name])
    server = make_server("127.0.0.1", 0, odoo.http.root, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/mcp/v1", keys
    server.shutdown()
    sim_config["db_name"] = saved


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_official_sdk_client(served_over_http, mode):
    httpx2 = pytest.importorskip("httpx2")
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    url, keys = served_over_http

    async def session():
        http_client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {keys['admin']}"})
        async with http_client, Client(streamable_http_client(url, http_client=http_client),
                                       mode=mode) as client:
            result = client.session.initialize_result
            version = result.protocol_version if result else MODERN
            tools = await client.list_tools()
            called = await client.call_tool("server_info", {})
            return version, tools, called

    version, tools, called = asyncio.run(session())
    assert version == ("2025-11-25" if mode == "legacy" else MODERN)
    names = [tool.name for tool in tools.tools]
    assert names == sorted(names) and {"list_installed_modules", "server_info"} <= set(names)
    assert called.structured_content["hostname"] == "host-a"


def test_dns_rebinding_the_attackers_host_is_no_allowed_origin(mcp):
    """Under DNS rebinding the browser sends the attacker's name as Host and as Origin."""
    evil = mcp(request("ping"), Origin="http://evil.example", Host="evil.example")
    assert evil.status_code == 403
    assert mcp(request("ping"), Origin="http://localhost:8069", Host="localhost:8069").status_code == 200


def test_header_values_are_compared_without_surrounding_whitespace(mcp):
    spaced = modern(mcp, "tools/call", {"name": "server_info"}, name="  server_info\t",
                    **{"Mcp-Method": " tools/call "})
    assert spaced.status_code == 200
