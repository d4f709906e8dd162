import os
from unittest.mock import patch

import requests

from odoo.tests.common import TransactionCase, tagged

from ..services import phone_home
from .common import ReceiverMixin

PAYLOAD_FIELDS = {"server_id", "hostname", "ip_addresses", "port", "transport", "version",
                  "odoo_version", "database", "capabilities", "odoo_stage", "mcp_url",
                  "database_uuid"}


@tagged("post_install", "-at_install")
class TestPhoneHome(ReceiverMixin, TransactionCase):

    def test_payload_has_the_seed_fields_and_where_agents_connect(self):
        payload = phone_home._build_server_payload(self.env)
        self.assertEqual(set(payload), PAYLOAD_FIELDS)
        self.assertEqual(payload["server_id"], f"{self.env.cr.dbname}_{payload['hostname']}")
        self.assertEqual(payload["capabilities"], sorted(payload["capabilities"]))
        self.assertIn("server_info", payload["capabilities"])
        self.assertIsInstance(payload["port"], int)
        self.assertEqual(set(payload["ip_addresses"]), {"primary", "all"})

    def test_stage_from_environment(self):
        with patch.dict(os.environ, {"ODOO_STAGE": "production"}):
            self.assertEqual(phone_home._build_server_payload(self.env)["odoo_stage"], "production")
        with patch.dict(os.environ, {}, clear=False):
            os.environ.pop("ODOO_STAGE", None)
            self.assertEqual(phone_home._build_server_payload(self.env)["odoo_stage"], "")

    def test_heartbeat_enriched_and_authenticated(self):
        self.assertTrue(phone_home.send_heartbeat(self.env))
        (call,) = self.sent
        self.assertTrue(call["url"].endswith("/heartbeat"))
        self.assertEqual(call["headers"]["Authorization"], "Bearer t0ken")
        body = call["json"]
        self.assertTrue(PAYLOAD_FIELDS | {"status", "timestamp", "uptime_seconds"} <= set(body))
        self.assertEqual(body["status"], "healthy")
        self.assertTrue(body["timestamp"].endswith("Z"))
        self.assertIsInstance(body["uptime_seconds"], float)

    def test_heartbeat_failures_return_false_without_retry(self):
        for failure in (500, requests.ConnectionError("refused"), requests.Timeout("slow")):
            self.sent.clear()
            self.status_code = failure
            with self.assertLogs(phone_home.__name__, "WARNING"):
                self.assertFalse(phone_home.send_heartbeat(self.env))
            self.assertEqual(len(self.sent), 1)

    def test_register_retries_then_gives_up(self):
        self.status_code = 503
        with patch.object(phone_home.time, "sleep"), self.assertLogs(phone_home.__name__, "WARNING"):
            self.assertFalse(phone_home.register_server(self.env))
        self.assertEqual(len(self.sent), phone_home.REGISTER_ATTEMPTS)
        self.assertIn("started_at", self.sent[0]["json"])

    def test_no_url_no_network(self):
        self.env["ir.config_parameter"].sudo().set_param(phone_home.URL_KEY, False)
        # Whatever this server's own environment and odoo.conf say.
        with patch.dict(os.environ, dict.fromkeys(phone_home.ENV_VARIABLES.values(), "")), \
                patch.object(phone_home, "_config_file", return_value=None), \
                patch.object(phone_home, "config", {"http_port": 8069}):
            self.assertFalse(phone_home.send_heartbeat(self.env))
            self.assertFalse(phone_home.register_server(self.env))
        self.assertEqual(self.sent, [])

    def test_fleet_settings_from_environment_then_config_file(self):
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param(phone_home.URL_KEY, False)
        with patch.dict(os.environ, {"MCP_PHONE_HOME_URL": "http://from-env.test"}):
            self.assertEqual(phone_home.receiver_url(self.env), "http://from-env.test")
        with patch.dict(os.environ, {"MCP_PHONE_HOME_URL": ""}), \
                patch.object(phone_home, "_conf_section", return_value={
                    "phone_home_url": "http://from-file.test"}), \
                patch.object(phone_home, "_config_file", return_value="/etc/odoo.conf"):
            self.assertEqual(phone_home.receiver_url(self.env), "http://from-file.test")
        # A System Parameter wins over both.
        icp.set_param(phone_home.URL_KEY, "http://from-settings.test")
        with patch.dict(os.environ, {"MCP_PHONE_HOME_URL": "http://from-env.test"}):
            self.assertEqual(phone_home.receiver_url(self.env), "http://from-settings.test")
