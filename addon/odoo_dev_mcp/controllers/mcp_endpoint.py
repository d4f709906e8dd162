"""HTTP routes under /mcp/v1. Today: the health probe that also notices Odoo.sh rebuilds.

The MCP endpoint proper (`POST /mcp/v1`, served from mcp_tools.registry) will live here too.
"""

from odoo import http, release
from odoo.http import request

from ..services import registration
from ..services.version import ADDON_VERSION


class McpEndpoint(http.Controller):

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
