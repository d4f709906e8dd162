"""The addon's own code, unchanged, on the simulated Odoo (flavour from ODOO_SIM_VERSION).

Fixtures give a database with odoo_dev_mcp installed, a WSGI client for odoo.http.root, and a
real HTTP receiver on 127.0.0.1 that records what the addon sends.
"""

import contextlib
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import freezegun.config
import pytest

# freezegun gives real time to any call with threading.py in its last frames: every thread but
# the main one. The addon registers from a daemon thread and must see the same frozen time.
freezegun.config.configure(default_ignore_list=[
    name for name in freezegun.config.DEFAULT_IGNORE_LIST if name != "threading"])

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ROOT / "addon"
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))


@pytest.fixture(scope="session", autouse=True)
def sim_config(tmp_path_factory):
    from odoo.tools import config
    config["data_dir"] = str(tmp_path_factory.mktemp("odoo-sim-data"))
    # A read-only pool, as a replica or --test-enable gives: on 18/19 every auth='none' route
    # (the health check) is then served on a read-only cursor first, as there.
    config["db_replica_host"] = "replica.sim"
    paths = config._as_list("addons_path") + [str(ADDONS)]
    config["addons_path"] = paths if isinstance(config["addons_path"], list) else ",".join(paths)
    from odoo.modules.module import initialize_sys_path
    initialize_sys_path()  # what odoo-bin does once it has read its configuration
    return config


@pytest.fixture(autouse=True)
def _no_replay_sleep(monkeypatch):
    # Odoo waits up to 2**try seconds before replaying a request; tests do not.
    import odoo.service.model
    monkeypatch.setattr(odoo.service.model, "_sleep", lambda tryno: None)


@pytest.fixture(autouse=True)
def _fresh_addon_process_state(monkeypatch):
    """Each test starts as a fresh worker would: no registration thread, no resolver memory."""
    from odoo.addons.odoo_dev_mcp.services import phone_home, registration
    monkeypatch.setattr(registration, "_in_flight", set())
    monkeypatch.setattr(phone_home, "_resolved", {})
    monkeypatch.delenv("ODOO_STAGE", raising=False)


def set_db_name(config, names):
    """config['db_name'] is a string on 17/18 and a list on 19."""
    if isinstance(config["db_name"], list):
        config["db_name"] = list(names)
    else:
        config["db_name"] = ",".join(names) or False


@pytest.fixture
def make_database(sim_config, request):
    from odoo.service import db
    created = []

    def make(modules=("odoo_dev_mcp",)):
        name = f"addon_{uuid.uuid4().hex[:10]}"
        created.append(name)
        return db.create_database(name, modules=list(modules))

    yield make
    for name in created:
        db.exp_drop(name)


@pytest.fixture
def registry(make_database):
    return make_database()


@pytest.fixture
def dbname(registry):
    return registry.db_name


@pytest.fixture
def env_factory(registry):
    """`with env_factory() as env:` a superuser environment committed on success."""
    from odoo import SUPERUSER_ID, api

    @contextlib.contextmanager
    def make(uid=SUPERUSER_ID):
        with registry.cursor() as cr:
            yield api.Environment(cr, uid, {})

    return make


@pytest.fixture
def run_cron(env_factory):
    """One run of the heartbeat cron's job, as the cron worker runs it: its own transaction."""
    def run():
        with env_factory() as env:
            return env["mcp.heartbeat"]._cron_send_heartbeat()
    return run


@pytest.fixture
def set_params(env_factory):
    def set_(**values):
        with env_factory() as env:
            icp = env["ir.config_parameter"].sudo()
            for key, value in values.items():
                icp.set_param(key.replace("__", "."), value)
    return set_


@pytest.fixture
def get_param(env_factory, registry):
    def get(key):
        registry.clear_cache()  # read the database, not this process's cached value
        with env_factory() as env:
            return env["ir.config_parameter"].sudo().get_param(key)
    return get


@pytest.fixture
def client(registry, sim_config):
    from werkzeug.test import Client

    import odoo.http
    saved = sim_config["db_name"]
    set_db_name(sim_config, [registry.db_name])
    yield Client(odoo.http.root)
    sim_config["db_name"] = saved


@pytest.fixture
def hostname(monkeypatch):
    """The container's hostname, as a rebuild changes it."""
    import socket
    current = {"name": "host-a"}
    monkeypatch.setattr(socket, "gethostname", lambda: current["name"])
    monkeypatch.setattr(socket, "if_nameindex", lambda: [])
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == current["name"]:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 0))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def set_(name):
        current["name"] = name
    set_.current = current
    return set_


class RecordingReceiver:
    """A real HTTP receiver on 127.0.0.1 that records every request and answers as told."""

    def __init__(self):
        self.calls = []
        self.status = {"/register": 201, "/heartbeat": 200}
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.gate.wait(30)
                with receiver.arrived:
                    receiver.calls.append({
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(body or b"null"),
                    })
                    receiver.arrived.notify_all()
                self.send_response(receiver.status.get(self.path, 404))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self):
        return [call["path"] for call in self.calls]

    def wait_for(self, count, timeout=10.0):
        """Wait (real time, bounded) until `count` requests arrived."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.calls) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.arrived.wait(left)
        return len(self.calls) >= count

    def close(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    recording = RecordingReceiver()
    yield recording
    recording.close()


@pytest.fixture
def configured(set_params, receiver, hostname):
    """An installed addon pointed at the recording receiver, hostname host-a not yet reported."""
    set_params(mcp__phone_home_url=receiver.url)
    return receiver


def wait_threads(prefix="mcp-register", timeout=10.0):
    """Wait (bounded) for the addon's background registration threads to end."""
    for thread in list(threading.enumerate()):
        if thread.name.startswith(prefix):
            thread.join(timeout)


@pytest.fixture
def closed_port():
    """A 127.0.0.1 port nothing listens on: connection refused."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_server():
    """A 127.0.0.1 server that accepts connections and never answers: a timeout."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


# ---------------------------------------------------------------- POST /mcp/v1

@pytest.fixture
def keys(env_factory):
    """An API key for the admin, an internal user and a portal user."""
    with env_factory() as env:
        users = env["res.users"]
        groups = users._groups_field_name()
        made = {
            "admin": env.ref("base.user_admin"),
            "internal": users.create({"name": "Internal", "login": "internal",
                                      groups: [env.ref("base.group_user").id]}),
            "portal": users.create({"name": "Portal", "login": "portal", "share": True,
                                    groups: [env.ref("base.group_portal").id]}),
        }
        ids = {login: user.id for login, user in made.items()}
    keys = {}
    for login, uid in ids.items():
        with env_factory(uid=uid) as env:
            keys[login] = env["res.users.apikeys"]._generate("rpc", "mcp test", "2099-01-01 00:00:00")
    return keys


@pytest.fixture
def mcp(client, keys, hostname):
    def post(body, key="admin", **headers):
        if key:
            headers["Authorization"] = f"Bearer {keys.get(key, key)}"
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        response = client.post("/mcp/v1", data=data, headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
            **headers})
        response.body = response.get_json(silent=True)
        return response
    return post


def request(method, params=None, id_=1):
    message = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    return message



def flavour():
    return os.environ.get("ODOO_SIM_VERSION", "17.0")
