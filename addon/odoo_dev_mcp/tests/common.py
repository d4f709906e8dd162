"""Shared set-up for the in-Odoo tests: a receiver URL and a fake `requests.post`.

Odoo blocks real HTTP in tests (BlockedRequest), so every outgoing call is answered by the fake.
"""

from unittest.mock import patch

from ..services import phone_home


class FakeResponse:
    def __init__(self, status_code):
        self.status_code = status_code


class ReceiverMixin:
    receiver_url = "http://receiver.test"

    def setUp(self):
        super().setUp()
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param(phone_home.URL_KEY, self.receiver_url)
        icp.set_param(phone_home.TOKEN_KEY, "t0ken")
        self.sent = []
        self.status_code = 200
        patcher = patch.object(phone_home.requests, "post", side_effect=self._fake_post)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _fake_post(self, url, json=None, headers=None, timeout=None):
        self.sent.append({"url": url, "json": json, "headers": headers, "timeout": timeout})
        if isinstance(self.status_code, Exception):
            raise self.status_code
        return FakeResponse(self.status_code)

    def paths(self):
        return [call["url"].rsplit("/", 1)[-1] for call in self.sent]
