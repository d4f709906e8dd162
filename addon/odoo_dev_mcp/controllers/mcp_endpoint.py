"""HTTP routes under /mcp/v1: the MCP endpoint (`POST /mcp/v1`) and the health probe that also
notices Odoo.sh rebuilds."""

import json
import logging
from urllib.parse import urlsplit

from odoo import http, release
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from ..mcp_tools.registry import ToolError, call_tool, get_tool_registry
from ..models import mcp_rate_window
from ..models.mcp_audit_log import arguments_json
from ..services import mcp_protocol, registration
from ..services.version import ADDON_VERSION

_logger = logging.getLogger(__name__)

API_KEY_SCOPES = ("odoo_dev_mcp", "rpc")  # a key of either scope (or a global key) opens MCP
ALLOWED_ORIGINS_KEY = "mcp.allowed_origins"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
RATE_LIMITED = -32000  # JSON-RPC's implementation-defined server error range; HTTP 429 says why
READ_ONLY_KEY = "mcp.read_only"  # on: tools that write are neither listed nor callable
SERVER = mcp_protocol.ServerInfo(
    name="odoo-dev-mcp", version=ADDON_VERSION, title="Odoo Dev MCP",
    instructions="Tools for developers and DevOps of this Odoo database. Every call runs as the "
                 "user who owns the API key, with that user's access rights.")
# Errors a tool's caller can cause or fix: reported to the agent, not logged as a failure.
_CALLER_ERRORS = (ToolError, AccessError, AccessDenied, MissingError, UserError, ValidationError)


def read_only_mode(env) -> bool:
    return (env["ir.config_parameter"].sudo().get_param(READ_ONLY_KEY) or "").lower() in (
        "1", "true", "yes", "on")


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


class OdooToolSet(mcp_protocol.ToolSet):
    """The registry's tools as one user sees them: listed and called only with their group."""

    def __init__(self, env):
        self.env = env

    def _allowed(self):
        user = self.env.user
        writes_allowed = not read_only_mode(self.env)
        return {name: tool for name, tool in get_tool_registry().items()
                if user.has_group(tool.group) and (tool.read_only or writes_allowed)}

    def list_tools(self):
        return [tool.schema() for _name, tool in sorted(self._allowed().items())]

    def call_tool(self, name, arguments):
        if name not in self._allowed():
            raise mcp_protocol.UnknownTool(name)
        try:
            # a failing tool leaves nothing behind: its savepoint is rolled back
            with self.env.cr.savepoint():
                value = call_tool(self.env, name, arguments)
        except _CALLER_ERRORS as error:
            return mcp_protocol.tool_result(f"{type(error).__name__}: {error}", failed=True)
        except Exception:
            _logger.exception("MCP tool %s failed", name)
            return mcp_protocol.tool_result(f"the tool {name} failed; the server log has why",
                                            failed=True)
        return mcp_protocol.tool_result(value)


def _peek(body):
    """(method, tool name, arguments) of a body, for the audit of a refused request."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None, None
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return None, None, None
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    if message["method"] != "tools/call" or not isinstance(params.get("name"), str):
        return message["method"][:256], None, None
    arguments = params.get("arguments")
    return message["method"], params["name"], arguments if isinstance(arguments, dict) else None


class McpEndpoint(http.Controller):

    # readonly=False: every request writes (rate window, audit row); 18/19 default auth='none'
    # routes to a read-only cursor and would replay each request after a failed first try.
    @http.route("/mcp/v1", type="http", auth="none", methods=["GET", "POST", "DELETE"],
                csrf=False, save_session=False, readonly=False)
    def mcp(self):
        httprequest = request.httprequest
        if httprequest.method != "POST":
            # stateless, JSON only: no event stream to GET, no session to DELETE
            return self._error(405, -32600, "Method not allowed: POST one JSON-RPC message",
                               headers=[("Allow", "POST")])
        if not request.db:
            return self._error(404, -32600, "No database selected: run Odoo with one database, "
                                            "a --db-filter, or (19) send X-Odoo-Database")
        origin = httprequest.headers.get("Origin")
        if origin and not self._origin_allowed(origin):
            return self._refuse(403, f"Origin {origin} is not allowed")
        user = self._authenticate()
        if user is None:
            return self._refuse(401, "Unauthorized: send 'Authorization: Bearer <Odoo API key>'",
                                headers=[("WWW-Authenticate", 'Bearer realm="odoo-dev-mcp"')])
        if user.share:
            return self._refuse(403, "Forbidden: portal and public users have no MCP access",
                                user=user)
        refused, retry_after = mcp_rate_window.check(request.env, user.id)
        if refused:
            limit = mcp_rate_window.limit_per_minute(request.env)
            return self._refuse(429, f"Too many requests: at most {limit} per minute; retry in "
                                     f"{retry_after} s", user=user, outcome="rate_limited",
                                headers=[("Retry-After", str(retry_after))],
                                data={"retryAfter": retry_after}, code=RATE_LIMITED)
        answer = mcp_protocol.handle(httprequest.get_data(), httprequest.headers,
                                     OdooToolSet(request.env), SERVER,
                                     on_tool_call=self._audit_tool_call)
        if answer.body is None:
            return request.make_response(b"", status=answer.status)
        return request.make_json_response(answer.body, status=answer.status,
                                          headers=list(answer.headers.items()))

    # ------------------------------------------------------------ audit

    def _audit(self, outcome, tool=None, arguments=None, duration_ms=0, message=None, user=None):
        httprequest = request.httprequest
        values = {
            "outcome": outcome, "tool": tool, "arguments": arguments_json(arguments),
            "duration_ms": duration_ms, "message": message,
            "remote_addr": httprequest.remote_addr,
            "user_agent": httprequest.headers.get("User-Agent"),
        }
        if user is not None:
            values["user_id"] = user.id
            values.update(self._api_key(user))
        request.env["mcp.audit.log"]._record(values)

    def _audit_tool_call(self, report):
        self._audit(report.outcome, tool=report.name, arguments=report.arguments,
                    duration_ms=report.duration_ms, user=request.env.user)

    def _api_key(self, user):
        """The key's id and name where its 8-character index names exactly one key of the user."""
        token = (request.httprequest.headers.get("Authorization") or "").partition(" ")[2].strip()
        request.env.cr.execute(
            'SELECT id, name FROM res_users_apikeys WHERE user_id = %s AND "index" = %s',
            (user.id, token[:8]))
        rows = request.env.cr.fetchall()
        return {"api_key_id": rows[0][0], "api_key_name": rows[0][1]} if len(rows) == 1 else {}

    def _refuse(self, status, message, headers=(), user=None, outcome="refused", data=None,
                code=-32600):
        """A refused request: audited (with the method or tool asked for), then answered."""
        method, name, arguments = _peek(request.httprequest.get_data())
        self._audit(outcome, tool=name or method, arguments=arguments, message=message, user=user)
        return request.make_json_response(mcp_protocol.error_body(None, code, message, data),
                                          status=status, headers=list(headers))

    def _error(self, status, code, message, headers=()):
        return request.make_json_response(mcp_protocol.error_body(None, code, message),
                                          status=status, headers=list(headers))

    def _origin_allowed(self, origin):
        """A browser's Origin: loopback (any port), `web.base.url`'s, or one an admin listed in
        `mcp.allowed_origins`. Never the request's own Host: under DNS rebinding the attacker's
        name is both the Host and the Origin."""
        if urlsplit(origin).hostname in LOOPBACK_HOSTS:
            return True
        icp = request.env["ir.config_parameter"].sudo()
        allowed = {_origin(icp.get_param("web.base.url"))}
        configured = icp.get_param(ALLOWED_ORIGINS_KEY) or ""
        allowed.update(_origin(item.strip()) for item in configured.split(","))
        allowed.discard("")
        return origin.lower() in allowed

    def _authenticate(self):
        """The API key's user, or None. Cookie sessions are not looked at."""
        scheme, _, token = (request.httprequest.headers.get("Authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        keys = request.env["res.users.apikeys"]
        for scope in API_KEY_SCOPES:
            uid = keys._check_credentials(scope=scope, key=token)
            if uid:
                request.update_env(user=uid)
                return request.env.user
        return None

    # readonly=False: 18/19 give auth='none' routes a read-only cursor by default, and under Odoo's
    # test mode the registration runs inline, on cursors that cannot be opened from a read-only one.
    @http.route("/mcp/v1/health", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False, readonly=False)
    def health_check(self):
        body = {"status": "ok", "version": ADDON_VERSION, "odoo_version": release.version}
        # No database selected (several databases, no dbfilter): liveness only. request.env is
        # None then, so it must not be touched.
        if request.db:
            # Steady state: two cached get_param reads, no write, no network. After a rebuild
            # the registration runs in a thread started once this request has committed.
            registration.schedule_after_commit(request.env, "health")
        return request.make_json_response(body)
