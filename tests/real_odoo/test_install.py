"""`odoo-bin -i odoo_dev_mcp` registers once, after the install has committed."""

import uuid

from . import odoo_env

PAYLOAD_FIELDS = {"server_id", "hostname", "ip_addresses", "port", "transport", "version",
                  "odoo_version", "database", "capabilities", "odoo_stage", "started_at",
                  "mcp_url", "database_uuid"}


def test_install_registers_once_after_commit(odoo, postgres, receiver):
    def committed_data(payload):
        # Called while the addon waits for the answer: another connection sees only what the
        # install has committed (Odoo commits once the module's data and post_init_hook ran).
        rows = postgres.query(payload["database"], """
            SELECT count(*) FROM ir_model_data
             WHERE module = 'odoo_dev_mcp' AND name = 'ir_cron_mcp_heartbeat'""")
        return rows[0][0]

    fleet = receiver(on_register=committed_data)
    dbname = f"{postgres.prefix}install_{uuid.uuid4().hex[:6]}"
    config = odoo.write_config("install", sections={"odoo_dev_mcp": {
        "phone_home_url": fleet.url, "phone_home_token": "install-t0ken"}})
    odoo.run("install", config, ["-d", dbname, "-i", "odoo_dev_mcp", *odoo_env.no_demo_args()],
             hostname="fresh-install")

    (registration,) = fleet.registrations()
    assert registration["observed"] == 1
    assert registration["authorization"] == "Bearer install-t0ken"
    payload = registration["json"]
    assert set(payload) == PAYLOAD_FIELDS
    assert payload["hostname"] == "fresh-install"
    assert payload["database"] == dbname
    assert payload["server_id"] == f"{dbname}_fresh-install"
    assert payload["odoo_version"].startswith(odoo_env.version().split(".")[0])
    assert payload["mcp_url"].endswith("/mcp/v1")
    assert len(payload["database_uuid"]) == 36
    assert fleet.heartbeats() == []
    rows = postgres.query(dbname, "SELECT value FROM ir_config_parameter WHERE key = %s",
                          ("mcp.last_hostname",))
    assert rows == [("fresh-install",)]
