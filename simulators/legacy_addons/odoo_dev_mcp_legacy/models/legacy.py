"""The old release: full description at registration, slim heartbeats every minute."""

import logging
import socket
import time
from datetime import datetime, timezone

import requests

from odoo import SUPERUSER_ID, api, models, release
from odoo.modules.registry import Registry
from odoo.tools import config

_logger = logging.getLogger(__name__)

LEGACY_VERSION = "0.9.0"


def _settings(env):
    icp = env["ir.config_parameter"].sudo()
    return icp.get_param("mcp.phone_home_url") or "", icp.get_param("mcp.phone_home_token") or ""


def _post(env, path, payload):
    url, token = _settings(env)
    if not url:
        return False
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = requests.post(url.rstrip("/") + path, json=payload, headers=headers, timeout=(2, 3))
    except requests.RequestException as error:
        _logger.warning("MCP (legacy) %s failed: %s", path, type(error).__name__)
        return False
    return response.status_code in (200, 201)


def _server_id(env):
    return f"{env.cr.dbname}_{socket.gethostname()}"


def register(env):
    hostname = socket.gethostname()
    try:
        addresses = sorted({info[4][0] for info in socket.getaddrinfo(hostname, None)})
    except OSError:
        addresses = []
    payload = {
        "server_id": _server_id(env),
        "hostname": hostname,
        "ip_addresses": {"primary": (addresses or ["127.0.0.1"])[0], "all": addresses},
        "port": int(config.get("http_port") or 8069),
        "transport": "http/sse",
        "version": LEGACY_VERSION,
        "odoo_version": release.version,
        "database": env.cr.dbname,
        "capabilities": [],
    }
    succeeded = _post(env, "/register", payload)
    _logger.info("MCP hostname %s: registration from install %s", hostname,
                 "succeeded" if succeeded else "failed")
    return succeeded


def post_init_hook(env):
    dbname = env.cr.dbname

    def after_commit():
        with Registry(dbname).cursor() as cr:
            register(api.Environment(cr, SUPERUSER_ID, {}))

    env.cr.postcommit.add(after_commit)


class McpLegacyHeartbeat(models.AbstractModel):
    _name = "mcp.legacy.heartbeat"
    _description = "MCP heartbeat (legacy release)"

    @api.model
    def _cron_send_slim_heartbeat(self):
        moment = datetime.fromtimestamp(time.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _post(self.env, "/heartbeat",
                     {"server_id": _server_id(self.env), "status": "healthy", "timestamp": moment})

    @api.model
    def _make_cron_repeat_forever(self):
        cron = self.env.ref("odoo_dev_mcp_legacy.ir_cron_mcp_legacy_heartbeat", raise_if_not_found=False)
        if cron and "numbercall" in cron._fields:
            cron.sudo().write({"numbercall": -1})
