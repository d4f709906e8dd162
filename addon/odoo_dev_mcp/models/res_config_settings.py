"""Settings page fields (Settings > MCP). res.config.settings is restricted to Settings admins
(base.group_system) by Odoo itself, so only they can read or change these."""

from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mcp_phone_home_url = fields.Char(
        string="Fleet receiver URL",
        config_parameter="mcp.phone_home_url",
        help="Base URL of the fleet receiver, e.g. https://fleet.example.com. Empty: no phone home.",
    )
    mcp_phone_home_token = fields.Char(
        string="Fleet receiver token",
        config_parameter="mcp.phone_home_token",
        help="Sent as 'Authorization: Bearer <token>' when set.",
    )
    mcp_server_port = fields.Integer(
        string="Advertised MCP port",
        config_parameter="mcp.server_port",
        help="Port agents should use to reach this server. 0: Odoo's own HTTP port.",
    )
