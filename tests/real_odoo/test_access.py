"""Internal non-admin and portal users cannot read the receiver's token or URL through any
path, over XML-RPC and JSON-RPC; uninstall removes every mcp.* parameter and a reinstall
registers again."""

import itertools
import xmlrpc.client

import pytest
import requests

from . import odoo_env

TOKEN = "s3cret-receiver-t0ken"
SECRET_FIELDS = ["mcp_phone_home_url", "mcp_phone_home_token"]


class XmlRpc:
    def __init__(self, server, login, password):
        self.db = server.dbname
        common = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common")
        self.uid = common.authenticate(self.db, login, password, {})
        assert self.uid, login
        self.password = password
        self.models = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object", allow_none=True)

    def call(self, model, method, *args, **kwargs):
        try:
            return self.models.execute_kw(self.db, self.uid, self.password, model, method,
                                          list(args), kwargs)
        except xmlrpc.client.Fault as fault:
            return f"Fault: {fault.faultString}"


class JsonRpc:
    ids = itertools.count(1)

    def __init__(self, server, login, password):
        self.url = server.url
        self.session = requests.Session()
        answer = self._post("/web/session/authenticate",
                            {"db": server.dbname, "login": login, "password": password})
        assert answer.get("result", {}).get("uid"), answer

    def _post(self, path, params):
        return self.session.post(f"{self.url}{path}", timeout=30, json={
            "jsonrpc": "2.0", "method": "call", "id": next(self.ids), "params": params}).json()

    def call(self, model, method, *args, **kwargs):
        answer = self._post("/web/dataset/call_kw", {
            "model": model, "method": method, "args": list(args), "kwargs": kwargs})
        return answer.get("result", answer.get("error"))


def every_path(rpc, settings_id):
    """What a user can ask for, named: the answers as the user gets them."""
    spec = {name: {} for name in SECRET_FIELDS}
    return {
        "default_get": rpc.call("res.config.settings", "default_get", SECRET_FIELDS),
        "onchange": rpc.call("res.config.settings", "onchange", [], {}, [], spec),  # ids first
        "read": rpc.call("res.config.settings", "read", [settings_id], SECRET_FIELDS),
        "search_read": rpc.call("res.config.settings", "search_read", [], SECRET_FIELDS),
        "web_read": rpc.call("res.config.settings", "web_read", [settings_id], spec),
        "get_param": rpc.call("ir.config_parameter", "get_param", "mcp.phone_home_token"),
        "icp_search_read": rpc.call("ir.config_parameter", "search_read",
                                    [("key", "like", "mcp.")], ["key", "value"]),
    }


@pytest.fixture
def served(odoo, make_db, receiver):
    # What this test's own calls make Odoo log: 19's notice that XML-RPC is deprecated, and
    # the refusals it is here to provoke.
    odoo.expect_warnings += ["endpoints are deprecated in Odoo 19", "You are not allowed to",
                             "You do not have enough rights to access",
                             "can not be completed due to security restrictions"]
    fleet = receiver()
    dbname = make_db("access")
    # The URL also in odoo.conf: uninstall removes the System Parameters, a reinstall finds it.
    config = odoo.write_config("access", sections={"odoo_dev_mcp": {"phone_home_url": fleet.url}})
    server = odoo.serve("access", config, dbname)
    admin = XmlRpc(server, "admin", "admin")
    admin.call("ir.config_parameter", "set_param", "mcp.phone_home_url", fleet.url + "/")
    admin.call("ir.config_parameter", "set_param", "mcp.phone_home_token", TOKEN)
    groups_field = "group_ids" if odoo_env.major() >= 19 else "groups_id"
    for login, group in (("internal", "base.group_user"), ("portal", "base.group_portal")):
        module, name = group.split(".")
        (group_data,) = admin.call("ir.model.data", "search_read",
                                   [("module", "=", module), ("name", "=", name)], ["res_id"])
        group_id = group_data["res_id"]
        admin.call("res.users", "create", {"name": login, "login": login, "password": f"{login}-pw",
                                           groups_field: [(6, 0, [group_id])]})
    return fleet, server, admin


def test_non_admins_never_see_the_receiver(served):
    fleet, server, admin = served
    settings_id = admin.call("res.config.settings", "create", {})
    # The admin does see them: the paths below can leak.
    assert TOKEN in repr(every_path(admin, settings_id))
    for login, client in itertools.product(("internal", "portal"), (XmlRpc, JsonRpc)):
        answers = every_path(client(server, login, f"{login}-pw"), settings_id)
        for path, answer in answers.items():
            assert TOKEN not in repr(answer), (login, client.__name__, path, answer)
            assert fleet.url not in repr(answer), (login, client.__name__, path, answer)


def test_uninstall_removes_parameters_and_reinstall_registers(served, postgres):
    fleet, server, admin = served
    assert requests.get(f"{server.url}/mcp/v1/health", timeout=10).status_code == 200
    assert fleet.wait_for(lambda: len(fleet.registrations()) == 1, timeout=15)

    (module_id,) = admin.call("ir.module.module", "search", [("name", "=", "odoo_dev_mcp")])
    admin.call("ir.module.module", "button_immediate_uninstall", [module_id])
    assert postgres.query(server.dbname, "SELECT key FROM ir_config_parameter "
                                         "WHERE key LIKE 'mcp.%'") == []

    admin.call("ir.module.module", "button_immediate_install", [module_id])
    assert fleet.wait_for(lambda: len(fleet.registrations()) == 2, timeout=15)
    assert len(fleet.registrations()) == 2
