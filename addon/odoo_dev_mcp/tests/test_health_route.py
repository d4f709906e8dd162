from unittest.mock import patch

from odoo.tests.common import HttpCase, tagged

from ..services import phone_home, registration
from .common import ReceiverMixin


@tagged("post_install", "-at_install")
class TestHealthRoute(ReceiverMixin, HttpCase):

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(registration.LAST_HOSTNAME_KEY, "old-host")
        hostname = patch.object(phone_home.socket, "gethostname", return_value="new-host")
        hostname.start()
        self.addCleanup(hostname.stop)

    def url_open(self, url, *args, **kwargs):
        # The request runs in another environment: it only sees what this one has flushed.
        self.env.flush_all()
        return super().url_open(url, *args, **kwargs)

    def test_health_answers_and_registers_a_new_hostname(self):
        response = self.url_open("/mcp/v1/health")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["status"], "ok")
        self.assertEqual(self.paths(), ["register"])

    def test_health_with_reported_hostname_sends_nothing(self):
        self.env["ir.config_parameter"].sudo().set_param(registration.LAST_HOSTNAME_KEY, "new-host")
        self.assertEqual(self.url_open("/mcp/v1/health").status_code, 200)
        self.assertEqual(self.sent, [])
