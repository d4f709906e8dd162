"""Settings page fields (Settings > MCP), for Settings administrators (base.group_system).

Odoo's own protection is not enough for a secret here: `res.config.settings.default_get` reads
every `config_parameter` field as superuser for any caller who names it, portal users included,
and `groups=` on the field does not stop that path. So the receiver's URL and token carry
`groups` (read, search_read, web_read, onchange) and `default_get` leaves them out as well.
"""

from odoo import api, fields, models

from ..services import phone_home, registration

ADMIN_GROUP = "base.group_system"
ADMIN_ONLY_FIELDS = ("mcp_phone_home_url", "mcp_phone_home_token", "mcp_read_only")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mcp_phone_home_url = fields.Char(
        string="Fleet receiver URL",
        config_parameter=phone_home.URL_KEY,
        groups=ADMIN_GROUP,
        help="Base URL of the fleet receiver, e.g. https://fleet.example.com. Empty: no phone home.",
    )
    mcp_phone_home_token = fields.Char(
        string="Fleet receiver token",
        config_parameter=phone_home.TOKEN_KEY,
        groups=ADMIN_GROUP,
        help="Sent as 'Authorization: Bearer <token>' when set.",
    )
    mcp_server_port = fields.Integer(
        string="Advertised MCP port",
        config_parameter=phone_home.PORT_KEY,
        help="Port agents should use to reach this server. 0: Odoo's own HTTP port.",
    )

    mcp_read_only = fields.Boolean(
        string="MCP read-only",
        config_parameter="mcp.read_only",
        groups=ADMIN_GROUP,
        help="Tools that change data are neither listed nor callable, whatever the user's groups.",
    )

    @api.model
    def default_get(self, fields_list):
        if not (self.env.su or self.env.user.has_group(ADMIN_GROUP)):
            fields_list = [name for name in fields_list if name not in ADMIN_ONLY_FIELDS]
        return super().default_get(fields_list)

    def set_values(self):
        url_before = phone_home.receiver_url(self.env)
        super().set_values()
        if phone_home.receiver_url(self.env) != url_before:
            # A new receiver has never heard of this server: register with it once saved.
            registration.forget_reported_hostname(self.env)
            registration.schedule_after_commit(self.env, "settings")
