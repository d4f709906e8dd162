"""The per-user rate limit of POST /mcp/v1, counted in the database so that it holds across
prefork workers: one row per user and fixed minute window, incremented by one atomic UPSERT.

A request reads its user's count (a plain SELECT in its own transaction: no lock, no conflict)
and is refused once the window holds `mcp.rate_limit_per_minute` calls. It is counted after its
transaction commits, in a short transaction of its own: on the request's cursor the row lock
would be held for the whole tool call, serialising a user's concurrent requests and failing each
with a SerializationFailure. A SerializationFailure between two short counting transactions only
means another worker counted at the same moment: retried on a fresh snapshot, without Odoo
logging the query (`log_exceptions=False`). Concurrent requests may each see the count before
the others': the limit may be passed by the number of requests in flight at once.
"""

import logging
import math
from datetime import datetime, timedelta, timezone

import psycopg2.errors

from odoo import fields, models

from ..services import registration

_logger = logging.getLogger(__name__)

LIMIT_KEY = "mcp.rate_limit_per_minute"
DEFAULT_LIMIT = 120
WINDOW_SECONDS = 60
_ATTEMPTS = 5
_RACES = (psycopg2.errors.SerializationFailure, psycopg2.errors.UniqueViolation,
          psycopg2.errors.LockNotAvailable)


def limit_per_minute(env):
    """The configured limit; 0 or less: no limit. Cached per process by get_param."""
    raw = env["ir.config_parameter"].sudo().get_param(LIMIT_KEY)
    try:
        return int(raw) if raw not in (None, False, "") else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT


class McpRateWindow(models.Model):
    _name = "mcp.rate.window"
    _description = "MCP rate limit window"
    _log_access = False

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    window_start = fields.Datetime(required=True)
    calls = fields.Integer(required=True, default=0)

    def init(self):
        # The UPSERT's conflict target. (_sql_constraints: 19 warns; models.Constraint: 17/18 lack it.)
        self.env.cr.execute("CREATE UNIQUE INDEX IF NOT EXISTS mcp_rate_window_user_window_uniq "
                            "ON mcp_rate_window (user_id, window_start)")

    def _vacuum(self, before):
        self.env.cr.execute("DELETE FROM mcp_rate_window WHERE window_start < %s",
                            (fields.Datetime.to_string(before),))


def _window(now=None):
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    start = now.replace(second=0, microsecond=0)
    retry_after = max(1, math.ceil((start + timedelta(seconds=WINDOW_SECONDS) - now).total_seconds()))
    return fields.Datetime.to_string(start), retry_after


def check(env, uid, now=None):
    """(refused, retry_after seconds) for one request of `uid`, counted once its transaction
    commits. Never refused when the limit is 0 or less (nothing is read or counted then)."""
    limit = limit_per_minute(env)
    if limit <= 0:
        return False, 0
    window, retry_after = _window(now)
    env.cr.execute("SELECT calls FROM mcp_rate_window WHERE user_id = %s AND window_start = %s",
                   (uid, window))
    row = env.cr.fetchone()
    registry = env.registry
    if registration._running_tests(env.cr.dbname):
        count_call(registry, uid, window)  # test cursors drop post-commit callbacks
    else:
        env.cr.postcommit.add(lambda: count_call(registry, uid, window))
    return bool(row) and row[0] >= limit, retry_after


def count_call(registry, uid, window):
    """Count one call of `uid` in `window`, in a transaction of its own; the count, or None when
    it could not be made (the call is let through rather than failed)."""
    try:
        for attempt in range(_ATTEMPTS):
            try:
                with registry.cursor() as cr:
                    cr.execute("INSERT INTO mcp_rate_window (user_id, window_start, calls) "
                               "VALUES (%s, %s, 1) ON CONFLICT (user_id, window_start) "
                               "DO UPDATE SET calls = mcp_rate_window.calls + 1 RETURNING calls",
                               (uid, window), log_exceptions=False)
                    return cr.fetchone()[0]
            except _RACES:
                # another worker counted the same row at the same moment: count again, afresh
                _logger.debug("rate window of user %s: concurrent update, attempt %d", uid,
                              attempt + 1)
    except Exception:  # noqa: BLE001 - a post-commit callback must not fail the answered request
        _logger.warning("MCP rate limit: could not count a call of user %s", uid, exc_info=True)
    return None
