"""The addon, unchanged, on the simulated Odoo, served over real HTTP on loopback for the official
conformance suite: a database with odoo_dev_mcp installed, an API key, and a werkzeug server for
odoo.http.root.

The suite cannot send an Authorization header (modelcontextprotocol/conformance#453): a WSGI
wrapper here, in the test harness only, adds the admin's key to requests that carry none. Host
and Origin reach the addon as the suite sent them.
"""

import logging
import os
import sys
import threading
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))


@pytest.fixture(scope="session")
def sim_odoo(tmp_path_factory):
    from odoo.tools import config
    config["data_dir"] = str(tmp_path_factory.mktemp("odoo-sim-data"))
    paths = config._as_list("addons_path") + [str(ROOT / "addon")]
    config["addons_path"] = paths if isinstance(config["addons_path"], list) else ",".join(paths)
    from odoo.modules.module import initialize_sys_path
    initialize_sys_path()  # what odoo-bin does once it has read its configuration
    return config


@pytest.fixture(scope="session")
def database(sim_odoo):
    """A database with odoo_dev_mcp installed and the admin's API key (scope rpc)."""
    from odoo import SUPERUSER_ID, api
    from odoo.service import db
    for variable in ("MCP_PHONE_HOME_URL", "ODOO_STAGE"):  # no phone home, no stage
        os.environ.pop(variable, None)
    name = f"conformance_{uuid.uuid4().hex[:10]}"
    registry = db.create_database(name, modules=["odoo_dev_mcp"])
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        admin = env.ref("base.user_admin").id
        # a conformance run is some 300 requests a minute from one user: no per-user rate limit
        # (0: off), or the later scenarios would get 429
        env["ir.config_parameter"].set_param("mcp.rate_limit_per_minute", "0")
    with registry.cursor() as cr:
        key = api.Environment(cr, admin, {})["res.users.apikeys"]._generate(
            "rpc", "conformance", "2099-01-01 00:00:00")
    yield name, key
    db.exp_drop(name)


def with_key(app, key):
    """WSGI: the API key for requests without an Authorization header (test harness only)."""
    def wrapped(environ, start_response):
        environ.setdefault("HTTP_AUTHORIZATION", f"Bearer {key}")
        return app(environ, start_response)
    return wrapped


@pytest.fixture(scope="session")
def mcp_url(sim_odoo, database):
    """http://localhost:<port>/mcp/v1 (the DNS-rebinding scenario wants a localhost URL)."""
    from werkzeug.serving import make_server

    import odoo.http
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    name, key = database
    saved = sim_odoo["db_name"]
    sim_odoo["db_name"] = [name] if isinstance(saved, list) else name
    server = make_server("127.0.0.1", 0, with_key(odoo.http.root, key), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}/mcp/v1"
    server.shutdown()
    server.server_close()
    sim_odoo["db_name"] = saved
