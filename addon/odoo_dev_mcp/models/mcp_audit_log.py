"""The MCP audit log: one row per `tools/call` and per refused or rate-limited request.

Rows are written by the endpoint through `sudo()`, in the request's transaction but outside the
tool's savepoint, so a failing tool is still audited. Settings administrators read them; nobody
writes them through the UI (no create/write/unlink in the ACL). The retention cron deletes rows
older than `mcp.audit_retention_days` (default 90) and the rate limiter's past windows.
"""

import json
import logging
import re
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

RETENTION_DAYS_KEY = "mcp.audit_retention_days"
DEFAULT_RETENTION_DAYS = 90
ARGUMENTS_MAX_CHARS = 10_000
REDACTED = "***"
OUTCOMES = [("ok", "OK"), ("tool_error", "Tool error"), ("refused", "Refused"),
            ("rate_limited", "Rate limited"), ("protocol_error", "Protocol error")]
# Argument names that hold a secret, wherever they sit in the arguments.
_SECRET_NAME = re.compile(r"pass(word|wd)?|token|secret|api_?key|credential|authori[sz]ation"
                          r"|(^|[_-])key($|[_-])", re.IGNORECASE)


def redact(value):
    """`value` with every item whose key is named like a secret replaced by '***' (recursively)."""
    if isinstance(value, dict):
        return {key: REDACTED if isinstance(key, str) and _SECRET_NAME.search(key) else redact(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value


def arguments_json(arguments):
    """Redacted arguments as JSON text, cut at ARGUMENTS_MAX_CHARS."""
    if arguments is None:
        return False
    text = json.dumps(redact(arguments), default=str, sort_keys=True)
    return text if len(text) <= ARGUMENTS_MAX_CHARS else text[:ARGUMENTS_MAX_CHARS] + "…"


class McpAuditLog(models.Model):
    _name = "mcp.audit.log"
    _description = "MCP audit log"
    _order = "id desc"
    _rec_name = "tool"

    user_id = fields.Many2one("res.users", string="User", readonly=True, index=True,
                              ondelete="set null")
    api_key_id = fields.Integer(string="API key id", readonly=True)
    api_key_name = fields.Char(string="API key", readonly=True)
    tool = fields.Char(string="Tool or method", readonly=True, index=True)
    arguments = fields.Text(readonly=True, help="As sent, secrets redacted.")
    outcome = fields.Selection(OUTCOMES, readonly=True, required=True, index=True)
    message = fields.Char(readonly=True, help="Why a request was refused or failed.")
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    remote_addr = fields.Char(string="Remote address", readonly=True)
    user_agent = fields.Char(readonly=True)

    @api.model
    def _record(self, values):
        """Write one row as superuser (the caller's rights do not matter) and flush it now: the
        request's env may be gone before the commit (17/18 then drop pending ORM writes)."""
        values = dict(values)
        for name in ("tool", "message", "remote_addr", "user_agent", "api_key_name"):
            if isinstance(values.get(name), str):
                values[name] = values[name][:256]
        row = self.sudo().create(values)
        row.flush_recordset()
        return row

    @api.model
    def _load_list_view(self):
        """The list view, as a data file would load it, with the root tag this Odoo knows:
        `<tree>` on 17, `<list>` on 18 and 19 (each refuses the other's)."""
        view_types = dict(self.env["ir.ui.view"]._fields["type"].selection)
        tag = "list" if "list" in view_types else "tree"
        arch = (f'<{tag} create="false" edit="false" delete="false">'
                '<field name="create_date"/><field name="user_id"/><field name="api_key_name"/>'
                '<field name="tool"/><field name="outcome"/><field name="duration_ms"/>'
                f'<field name="remote_addr"/><field name="message"/></{tag}>')
        self.env["ir.ui.view"]._load_records([{
            "xml_id": "odoo_dev_mcp.mcp_audit_log_view_list",
            "values": {"name": "mcp.audit.log.list", "model": self._name, "arch": arch},
            "noupdate": False,
        }], update=True)

    @api.model
    def _cron_vacuum(self):
        """Delete audit rows older than the retention and rate windows older than an hour."""
        icp = self.env["ir.config_parameter"].sudo()
        try:
            days = int(icp.get_param(RETENTION_DAYS_KEY) or DEFAULT_RETENTION_DAYS)
        except ValueError:
            _logger.warning("%s is not a number of days; keeping %d", RETENTION_DAYS_KEY,
                            DEFAULT_RETENTION_DAYS)
            days = DEFAULT_RETENTION_DAYS
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if days > 0:
            limit = fields.Datetime.to_string(now - timedelta(days=days))
            self.env.cr.execute("DELETE FROM mcp_audit_log WHERE create_date < %s", (limit,))
        self.env["mcp.rate.window"]._vacuum(now - timedelta(hours=1))
        self.env.invalidate_all()
        return True
