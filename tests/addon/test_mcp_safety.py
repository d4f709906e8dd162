"""POST /mcp/v1's safety and audit on the simulated Odoo: an audit row per tools/call (secrets
redacted, a failing tool still audited), refused requests audited, the per-user rate limit kept
in the database (429 + Retry-After), the read-only switch, the audit log's ACL and retention."""

import json

import pytest
from freezegun import freeze_time

from .conftest import request


@pytest.fixture
def safety_tools(monkeypatch):
    from odoo.addons.odoo_dev_mcp.mcp_tools import registry
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @registry.tool("echo_args", "Echoes its arguments.",
                   properties={"password": {"type": "string"}, "options": {"type": "object"},
                               "model": {"type": "string"}})
    def echo_args(env, params):
        return {"seen": sorted(params)}

    @registry.tool("write_then_fail", "Writes a parameter, then fails.", read_only=False)
    def write_then_fail(env, params):
        env["ir.config_parameter"].sudo().set_param("mcp.test_written", "yes")
        env.flush_all()
        raise RuntimeError("broken tool")

    @registry.tool("set_flag", "Changes data.", read_only=False)
    def set_flag(env, params):
        return {"done": True}


def call(mcp, name, arguments=None, key="admin", **headers):
    return mcp(request("tools/call", {"name": name, "arguments": arguments or {}}), key=key,
               **headers)


def audit_rows(env_factory):
    with env_factory() as env:
        return env["mcp.audit.log"].search([], order="id").read(
            ["user_id", "api_key_id", "api_key_name", "tool", "arguments", "outcome",
             "message", "duration_ms", "remote_addr", "user_agent", "create_date"])


def test_redaction_is_recursive():
    from odoo.addons.odoo_dev_mcp.models.mcp_audit_log import arguments_json, redact
    assert redact({"password": "p", "model": "res.users", "nested": [
        {"api_key": "k", "Token": "t", "client_secret": "s", "key": "x", "monkey": "m",
         "keys": ["a"]}]}) == {"password": "***", "model": "res.users", "nested": [
        {"api_key": "***", "Token": "***", "client_secret": "***", "key": "***", "monkey": "m",
         "keys": ["a"]}]}
    assert arguments_json(None) is False
    assert len(arguments_json({"x": "y" * 20_000})) <= 10_001


def test_a_row_per_tool_call_with_secrets_redacted(mcp, client, keys, safety_tools, env_factory,
                                                   caplog):
    body = request("tools/call", {"name": "echo_args", "arguments": {
        "password": "hunter2", "model": "res.partner", "options": {"token": "abc", "depth": 2}}})
    with caplog.at_level("WARNING"):
        answer = client.post("/mcp/v1", json=body, environ_base={"REMOTE_ADDR": "10.1.2.3"},
                             headers={"Authorization": f"Bearer {keys['admin']}",
                                      "User-Agent": "agent/1.0"})
    assert answer.get_json()["result"]["isError"] is False
    assert not [r for r in caplog.records if "read/write cursor" in r.getMessage()]
    (row,) = audit_rows(env_factory)
    assert row["outcome"] == "ok" and row["tool"] == "echo_args"
    assert row["user_id"][1] and row["api_key_name"] == "mcp test" and row["api_key_id"]
    arguments = json.loads(row["arguments"])
    assert arguments == {"password": "***", "model": "res.partner",
                         "options": {"token": "***", "depth": 2}}
    assert "hunter2" not in json.dumps(row, default=str)
    assert row["duration_ms"] >= 0 and row["create_date"]
    assert (row["remote_addr"], row["user_agent"]) == ("10.1.2.3", "agent/1.0")
    # tools/list and ping are not audited
    mcp(request("tools/list"))
    mcp(request("ping"))
    assert len(audit_rows(env_factory)) == 1


def test_a_failing_tool_is_still_audited(mcp, safety_tools, env_factory, get_param):
    broken = call(mcp, "write_then_fail").body["result"]
    assert broken["isError"] is True
    assert get_param("mcp.test_written") is False  # the tool's savepoint was rolled back
    unknown = call(mcp, "no_such_tool")
    assert unknown.body["error"]["code"] == -32602
    bad = call(mcp, "echo_args", {"nope": 1})
    assert bad.body["result"]["isError"] is True
    rows = audit_rows(env_factory)
    assert [(row["tool"], row["outcome"]) for row in rows] == [
        ("write_then_fail", "tool_error"), ("no_such_tool", "protocol_error"),
        ("echo_args", "tool_error")]


def test_refused_requests_are_audited(mcp, env_factory):
    assert call(mcp, "server_info", {"secret": "s"}, key="wrong-key").status_code == 401
    assert call(mcp, "server_info", key="portal").status_code == 403
    assert mcp(request("ping"), Origin="http://evil.example").status_code == 403
    rows = audit_rows(env_factory)
    assert [(row["outcome"], row["tool"], bool(row["user_id"])) for row in rows] == [
        ("refused", "server_info", False), ("refused", "server_info", True),
        ("refused", "ping", False)]
    assert json.loads(rows[0]["arguments"]) == {"secret": "***"}
    assert rows[0]["message"].startswith("Unauthorized")


def test_rate_limit_429_across_requests(mcp, set_params, env_factory):
    set_params(mcp__rate_limit_per_minute="3")
    with freeze_time("2030-01-01 12:00:30"):
        for _ in range(3):  # three separate requests, counted in the database
            assert mcp(request("ping")).status_code == 200
        limited = call(mcp, "server_info")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "30"
        assert limited.body["error"]["code"] == -32000 and "id" not in limited.body
        assert limited.body["error"]["data"] == {"retryAfter": 30}
        # another user has a count of their own
        assert mcp(request("ping"), key="internal").status_code == 200
    with freeze_time("2030-01-01 12:01:00"):
        assert call(mcp, "server_info").status_code == 200  # a new window
    rows = audit_rows(env_factory)
    assert [(row["tool"], row["outcome"]) for row in rows] == [
        ("server_info", "rate_limited"), ("server_info", "ok")]
    with env_factory() as env:
        env.cr.execute("SELECT user_id, calls FROM mcp_rate_window ORDER BY window_start, user_id")
        windows = env.cr.fetchall()
    admin = rows[0]["user_id"][0]
    assert (admin, 4) in windows and (admin, 1) in windows


def test_no_limit_when_zero_and_health_is_not_counted(mcp, client, set_params, env_factory):
    set_params(mcp__rate_limit_per_minute="1")
    for _ in range(5):
        assert client.get("/mcp/v1/health").status_code == 200
    assert mcp(request("ping")).status_code == 200
    assert mcp(request("ping")).status_code == 429
    set_params(mcp__rate_limit_per_minute="0")
    for _ in range(3):
        assert mcp(request("ping")).status_code == 200


def test_read_only_switch_hides_tools_that_write(mcp, safety_tools, set_params):
    def names():
        return {tool["name"] for tool in mcp(request("tools/list")).body["result"]["tools"]}
    assert "set_flag" in names()
    assert call(mcp, "set_flag").body["result"]["structuredContent"] == {"done": True}
    set_params(mcp__read_only="True")
    assert "set_flag" not in names() and "echo_args" in names()
    assert call(mcp, "set_flag").body["error"]["code"] == -32602
    assert call(mcp, "echo_args").body["result"]["isError"] is False
    set_params(mcp__read_only=False)
    assert "set_flag" in names()


def test_read_only_setting_is_for_admins(env_factory, keys):
    with env_factory() as env:
        settings = env["res.config.settings"].create({"mcp_read_only": True})
        settings.execute()
        assert env["ir.config_parameter"].get_param("mcp.read_only") == "True"
        internal = env["res.users"].search([("login", "=", "internal")]).id
    with env_factory(uid=internal) as env:
        assert "mcp_read_only" not in env["res.config.settings"].default_get(["mcp_read_only"])


def test_only_admins_read_the_audit_log_and_nobody_writes(mcp, env_factory, keys):
    from odoo.exceptions import AccessError
    call(mcp, "server_info")
    with env_factory() as env:
        internal = env["res.users"].search([("login", "=", "internal")]).id
        admin = env.ref("base.user_admin").id
    with env_factory(uid=internal) as env, pytest.raises(AccessError):
        env["mcp.audit.log"].search([])
    with env_factory(uid=admin) as env:
        rows = env["mcp.audit.log"].search([])
        assert rows and rows.read(["tool"])
        with pytest.raises(AccessError):
            rows.write({"tool": "x"})
        with pytest.raises(AccessError):
            rows.unlink()
        with pytest.raises(AccessError):
            env["mcp.audit.log"].create({"tool": "forged", "outcome": "ok"})


def test_retention_cron(mcp, env_factory, set_params):
    call(mcp, "server_info")
    call(mcp, "server_info")
    with env_factory() as env:
        old, recent = env["mcp.audit.log"].search([], order="id")
        env.cr.execute("UPDATE mcp_audit_log SET create_date = %s WHERE id = %s",
                       ("2000-01-01 00:00:00", old.id))
        env.cr.execute("UPDATE mcp_rate_window SET window_start = %s", ("2000-01-01 00:00:00",))
        cron = env.ref("odoo_dev_mcp.ir_cron_mcp_audit_retention")
        assert cron.active and cron.interval_type == "days"
        if "numbercall" in cron._fields:
            assert cron.numbercall == -1
        env["mcp.audit.log"]._cron_vacuum()
        assert env["mcp.audit.log"].search([]).ids == [recent.id]
        env.cr.execute("SELECT count(*) FROM mcp_rate_window")
        assert env.cr.fetchone()[0] == 0
    set_params(mcp__audit_retention_days="0")  # 0: keep everything
    with env_factory() as env:
        env.cr.execute("UPDATE mcp_audit_log SET create_date = %s", ("2000-01-01 00:00:00",))
        env["mcp.audit.log"]._cron_vacuum()
        assert len(env["mcp.audit.log"].search([])) == 1


def test_the_list_view_and_action_load(env_factory):
    with env_factory() as env:
        view = env.ref("odoo_dev_mcp.mcp_audit_log_view_list")
        assert view.type in ("tree", "list") and view.model == "mcp.audit.log"
        action = env.ref("odoo_dev_mcp.action_mcp_audit_log")
        assert action.res_model == "mcp.audit.log"
