from unittest.mock import patch

from odoo.tests.common import HttpCase, tagged

from ..services import phone_home, registration
from .common import ReceiverMixin


@tagged("post_install", "-at_install")
class TestHostnameRegistration(ReceiverMixin, HttpCase):
    # HttpCase puts the registry in test mode, so the cursors registration opens share the test
    # transaction. With TransactionCase they would be real new cursors, blocked forever on the
    # rows this test's own transaction has written.

    def setUp(self):
        super().setUp()
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param(registration.LAST_HOSTNAME_KEY, "old-host")
        icp.set_param(registration.CLAIM_KEY, registration.UNCLAIMED)
        hostname = patch.object(phone_home.socket, "gethostname", return_value="new-host")
        hostname.start()
        self.addCleanup(hostname.stop)

    def run_cron(self):
        return self.env["mcp.heartbeat"]._cron_send_heartbeat()

    def test_cron_registers_before_heartbeat_on_new_hostname(self):
        self.assertTrue(self.run_cron())
        self.assertEqual(self.paths(), ["register", "heartbeat"])
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(
            registration.LAST_HOSTNAME_KEY), "new-host")

    def test_second_cron_run_only_heartbeats(self):
        self.run_cron()
        self.sent.clear()
        self.run_cron()
        self.assertEqual(self.paths(), ["heartbeat"])

    def test_failed_registration_is_retried_after_back_off(self):
        self.status_code = 500
        with patch.object(phone_home.time, "sleep"), self.assertLogs(level="WARNING"):
            self.run_cron()
        self.assertNotEqual(self.env["ir.config_parameter"].sudo().get_param(
            registration.LAST_HOSTNAME_KEY), "new-host")
        # Backing off: the next run within RETRY_AFTER_SECONDS does not register again.
        self.status_code = 200
        self.sent.clear()
        self.run_cron()
        self.assertEqual(self.paths(), ["heartbeat"])
        # Once the back-off has passed, it does.
        later = phone_home.time.time() + registration.RETRY_AFTER_SECONDS + 1
        with patch.object(registration.time, "time", return_value=later):
            self.sent.clear()
            self.run_cron()
        self.assertEqual(self.paths(), ["register", "heartbeat"])
