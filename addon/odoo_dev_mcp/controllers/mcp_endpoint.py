"""HTTP routes under /mcp/v1: the MCP endpoint (`POST /mcp/v1`) and the health probe that also
notices Odoo.sh rebuilds."""

import logging
from urllib.parse import urlsplit

from odoo import http, release
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from ..mcp_tools.registry import ToolError, call_tool, get_tool_registry
from ..services import mcp_protocol, registration
from ..services.version import ADDON_VERSION

_logger = logging.getLogger(__name__)

API_KEY_SCOPES = ("odoo_dev_mcp", "rpc")  # a key of either scope (or a global key) opens MCP
ALLOWED_ORIGINS_KEY = "mcp.allowed_origins"
SERVER = mcp_protocol.ServerInfo(
    name="odoo-dev-mcp", version=ADDON_VERSION, title="Odoo Dev MCP",
    instructions="Tools for developers and DevOps of this Odoo database. Every call runs as the "
                 "user who owns the API key, with that user's access rights.")
# Errors a tool's caller can cause or fix: reported to the agent, not logged as a failure.
_CALLER_ERRORS = (ToolError, AccessError, AccessDenied, MissingError, UserError, ValidationError)


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


class OdooToolSet(mcp_protocol.ToolSet):
    """The registry's tools as one user sees them: listed and called only with their group."""

    def __init__(self, env):
        self.env = env

    def _allowed(self):
        user = self.env.user
        return {name: tool for name, tool in get_tool_registry().items()
                if user.has_group(tool.group)}

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


class McpEndpoint(http.Controller):

    @http.route("/mcp/v1", type="http", auth="none", methods=["GET", "POST", "DELETE"],
                csrf=False, save_session=False)
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
        if origin and origin.lower() not in self._allowed_origins():
            return self._error(403, -32600, f"Origin {origin} is not allowed")
        user = self._authenticate()
        if user is None:
            return self._error(401, -32600, "Unauthorized: send 'Authorization: Bearer <Odoo API key>'",
                               headers=[("WWW-Authenticate", 'Bearer realm="odoo-dev-mcp"')])
        if user.share:
            return self._error(403, -32600, "Forbidden: portal and public users have no MCP access")
        answer = mcp_protocol.handle(httprequest.get_data(), httprequest.headers,
                                     OdooToolSet(request.env), SERVER)
        if answer.body is None:
            return request.make_response(b"", status=answer.status)
        return request.make_json_response(answer.body, status=answer.status,
                                          headers=list(answer.headers.items()))

    def _error(self, status, code, message, headers=()):
        return request.make_json_response(mcp_protocol.error_body(None, code, message),
                                          status=status, headers=list(headers))

    def _allowed_origins(self):
        icp = request.env["ir.config_parameter"].sudo()
        allowed = {_origin(request.httprequest.host_url), _origin(icp.get_param("web.base.url"))}
        configured = icp.get_param(ALLOWED_ORIGINS_KEY) or ""
        allowed.update(_origin(item.strip()) for item in configured.split(","))
        allowed.discard("")
        return allowed

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
