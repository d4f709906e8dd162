"""The minute cron: report a new hostname first (seed 000 section 3), then the enriched heartbeat."""

import logging

from odoo import api, models

from ..services import phone_home, registration

_logger = logging.getLogger(__name__)

# A worker already registering finishes within register_server's budget; wait a little longer so
# the heartbeat never reaches the receiver before that hostname's registration.
IN_FLIGHT_WAIT_SECONDS = phone_home.REGISTER_BUDGET_SECONDS + 2


class McpHeartbeat(models.AbstractModel):
    _name = "mcp.heartbeat"
    _description = "MCP fleet heartbeat"

    @api.model
    def _cron_send_heartbeat(self):
        hostname = phone_home.get_server_hostname()
        if registration.hostname_needs_report(self.env, hostname):
            dbname = self.env.cr.dbname
            outcome = registration.ensure_registered(dbname, hostname, "cron")
            if outcome == registration.IN_FLIGHT:
                registration.wait_until_settled(dbname, hostname, IN_FLIGHT_WAIT_SECONDS)
        return phone_home.send_heartbeat(self.env)

    @api.model
    def _make_cron_repeat_forever(self, *xmlids):
        """Odoo 17's ir.cron runs a job `numbercall` times (default once); 18 and 19 dropped the
        field and refuse records that set it. Called from the data file with the crons' XML ids
        (default: the heartbeat), portable to all three."""
        for xmlid in xmlids or ("odoo_dev_mcp.ir_cron_mcp_heartbeat",):
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if cron and "numbercall" in cron._fields:
                cron.sudo().write({"numbercall": -1})
