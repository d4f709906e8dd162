from odoo.exceptions import AccessError
from odoo.tests.common import TransactionCase, new_test_user, tagged

from .. import hooks
from ..services import phone_home

SECRET_FIELDS = ["mcp_phone_home_url", "mcp_phone_home_token"]


@tagged("post_install", "-at_install")
class TestSettingsAccess(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        icp = cls.env["ir.config_parameter"].sudo()
        icp.set_param(phone_home.URL_KEY, "http://receiver.test")
        icp.set_param(phone_home.TOKEN_KEY, "s3cret-t0ken")
        cls.internal = new_test_user(cls.env, login="mcp_internal", groups="base.group_user")
        cls.portal = new_test_user(cls.env, login="mcp_portal", groups="base.group_portal")
        cls.admin = new_test_user(cls.env, login="mcp_admin", groups="base.group_system")

    def settings_as(self, user):
        return self.env["res.config.settings"].with_user(user)

    def test_default_get_hides_the_receiver_from_non_admins(self):
        for user in (self.internal, self.portal):
            values = self.settings_as(user).default_get(SECRET_FIELDS + ["mcp_server_port"])
            self.assertNotIn("mcp_phone_home_token", values, user.login)
            self.assertNotIn("mcp_phone_home_url", values, user.login)
            self.assertNotIn("s3cret-t0ken", repr(values))

    def test_admin_reads_the_receiver_settings(self):
        values = self.settings_as(self.admin).default_get(SECRET_FIELDS)
        self.assertEqual(values["mcp_phone_home_token"], "s3cret-t0ken")
        self.assertEqual(values["mcp_phone_home_url"], "http://receiver.test")

    def test_non_admins_cannot_read_the_parameters(self):
        for user in (self.internal, self.portal):
            with self.assertRaises(AccessError):
                self.env["ir.config_parameter"].with_user(user).get_param(phone_home.TOKEN_KEY)

    def test_uninstall_hook_removes_every_mcp_parameter(self):
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("mcp.last_hostname", "some-host")
        hooks.uninstall_hook(self.env)
        self.assertFalse(icp.search([("key", "=like", "mcp.%")]))
        self.assertFalse(icp.get_param(phone_home.TOKEN_KEY))
