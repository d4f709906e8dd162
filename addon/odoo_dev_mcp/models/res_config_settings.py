"""Settings page fields (Settings > MCP). res.config.settings is restricted to Settings admins
(base.group_system) by Odoo itself, so only they can read or change these."""

from odoo import fields, models

from ..services import phone_home, registration


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mcp_phone_home_url = fields.Char(
        string="Fleet receiver URL",
        config_parameter=phone_home.URL_KEY,
        help="Base URL of the fleet receiver, e.g. https://fleet.example.com. Empty: no phone home.",
    )
    mcp_phone_home_token = fields.Char(
        string="Fleet receiver token",
        config_parameter=phone_home.TOKEN_KEY,
        help="Sent as 'Authorization: Bearer <token>' when set.",
    )
    mcp_server_port = fields.Integer(
        string="Advertised MCP port",
        config_parameter=phone_home.PORT_KEY,
        help="Port agents should use to reach this server. 0: Odoo's own HTTP port.",
    )

    def set_values(self):
        url_before = phone_home.receiver_url(self.env)
        super().set_values()
        if phone_home.receiver_url(self.env) != url_before:
            # A new receiver has never heard of this server: register with it once saved.
            registration.forget_reported_hostname(self.env)
            registration.schedule_after_commit(self.env, "settings")
