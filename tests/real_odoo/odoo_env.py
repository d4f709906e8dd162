"""Real Odoo for the real-Odoo suite: its tree, a virtualenv built from its pins, a PostgreSQL
role of its own, and Odoo processes (odoo-bin) started the way a user starts them.

Nothing here is copied from Odoo: the tree is pointed at (ODOO_SRC_17 / _18 / _19, defaulting to
../shared/odoo/<version> beside the repository), the virtualenv lives under .tox.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ROOT / "addon"

# Lines a trimmed tree logs on its own (see its SOURCE.md): not the addon's.
TREE_NOISE = (
    re.compile(r"IrAsset: the path .* did not resolve to anything"),
    re.compile(r"\$black"),
)
LOG_LEVEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) ")


def version() -> str:
    return os.environ.get("REAL_ODOO_VERSION", "17.0")


def major() -> int:
    return int(version().split(".")[0])


def source_tree() -> Path:
    variable = f"ODOO_SRC_{major()}"
    return Path(os.environ.get(variable) or ROOT.parent / "shared" / "odoo" / version()).resolve()


def server_wide_modules() -> str:
    # 19 serves XML-RPC from its `rpc` module
    return "base,rpc,web" if (source_tree() / "odoo" / "addons" / "rpc").is_dir() else "base,web"


def no_demo_args() -> list[str]:
    # 19 installs no demo data by default and warns about 17/18's --without-demo=all
    config_source = (source_tree() / "odoo" / "tools" / "config.py").read_text()
    return [] if '"--with-demo"' in config_source else ["--without-demo=all"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- virtualenv

def odoo_python(work_dir: Path) -> Path:
    """A virtualenv with the tree's pins (requirements-py311.txt), rebuilt when they change."""
    requirements = source_tree() / "requirements-py311.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    venv = work_dir / f"odoo-venv-{version()}"
    stamp = venv / "requirements.sha256"
    python = venv / "bin" / "python"
    if stamp.is_file() and stamp.read_text().strip() == digest and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(requirements)], check=True)
    stamp.write_text(digest + "\n")
    return python


# ---------------------------------------------------------------- PostgreSQL

class Postgres:
    """Admin connection (the `postgres` role) to create the role Odoo runs as, and databases."""

    def __init__(self, admin_dsn: str, role: str):
        import psycopg2
        self.psycopg2 = psycopg2
        self.admin_dsn = admin_dsn
        self.role = role
        params = psycopg2.extensions.parse_dsn(admin_dsn)
        self.host = params.get("host", "127.0.0.1")
        self.port = int(params.get("port", 5432))

    def _admin(self, sql, args=None, dbname="postgres"):
        connection = self.psycopg2.connect(self.admin_dsn, dbname=dbname, connect_timeout=5)
        connection.autocommit = True
        try:
            with connection.cursor() as cr:
                cr.execute(sql, args)
                return cr.fetchall() if cr.description else None
        finally:
            connection.close()

    def ensure_role(self):
        # Odoo refuses to run as `postgres`: a login role of its own that may create databases.
        if not self._admin("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.role,)):
            self._admin(f'CREATE ROLE "{self.role}" LOGIN CREATEDB')

    def databases(self, prefix: str) -> list[str]:
        rows = self._admin("SELECT datname FROM pg_database WHERE datname LIKE %s",
                           (prefix.replace("_", r"\_") + "%",))
        return [name for (name,) in rows]

    def drop(self, dbname: str):
        self._admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def query(self, dbname: str, sql, args=None):
        return self._admin(sql, args, dbname=dbname)

    def notify_cron(self, dbname: str):
        """Wake the cron workers as ir.cron._trigger() does: they LISTEN on `postgres`."""
        self._admin("SELECT pg_notify('cron_trigger', %s)", (dbname,))

    def run_cron_now(self, dbname: str, xmlid_name: str = "ir_cron_mcp_heartbeat"):
        self.query(dbname, """
            UPDATE ir_cron SET nextcall = now() at time zone 'UTC' - interval '1 minute'
             WHERE id = (SELECT res_id FROM ir_model_data
                          WHERE module = 'odoo_dev_mcp' AND name = %s)""", (xmlid_name,))
        self.notify_cron(dbname)


# ---------------------------------------------------------------- odoo-bin

class OdooLog:
    """One Odoo process's log file, read by the tests."""

    def __init__(self, path: Path):
        self.path = path

    def text(self) -> str:
        return self.path.read_text(errors="replace") if self.path.exists() else ""

    def problems(self) -> list[str]:
        """WARNING, ERROR and CRITICAL records, the trimmed tree's own noise left out."""
        found, current = [], None
        for line in self.text().splitlines():
            match = LOG_LEVEL.match(line)
            if match:
                current = None
                if match["level"] in ("WARNING", "ERROR", "CRITICAL") and not any(
                        noise.search(line) for noise in TREE_NOISE):
                    current = [line]
                    found.append(current)
            elif current is not None:
                current.append(line)  # a traceback belongs to its record
        return ["\n".join(record) for record in found]


class Odoo:
    """How this suite runs odoo-bin: one config file per run, the log in a file of its own."""

    def __init__(self, python: Path, postgres: Postgres, work_dir: Path):
        self.python = python
        self.postgres = postgres
        self.work_dir = work_dir
        self.runs = 0
        self.started: list[OdooServer] = []  # stopped after each test
        self.expect_warnings: list[str] = []  # substrings of log records a test expects

    def write_config(self, name: str, options: dict | None = None,
                     sections: dict[str, dict] | None = None) -> Path:
        lines = ["[options]",
                 f"addons_path = {source_tree() / 'addons'},{ADDONS}",
                 f"db_host = {self.postgres.host}",
                 f"db_port = {self.postgres.port}",
                 f"db_user = {self.postgres.role}",
                 f"server_wide_modules = {server_wide_modules()}",
                 f"data_dir = {self.work_dir / 'data'}",
                 "http_interface = 127.0.0.1"]
        lines += [f"{key} = {value}" for key, value in (options or {}).items()]
        for section, values in (sections or {}).items():
            lines += ["", f"[{section}]"] + [f"{key} = {value}" for key, value in values.items()]
        path = self.work_dir / f"{name}.conf"
        path.write_text("\n".join(line for line in lines if line) + "\n")
        return path

    def _command(self, config: Path, args, hostname: str | None):
        command = [str(self.python), str(source_tree() / "odoo-bin"), "-c", str(config), *args]
        if hostname is None:
            return command
        # A rebuild, for real: a new UTS namespace with another hostname (needs root).
        inner = 'hostname "$1" && shift && exec "$@"'
        return ["unshare", "--uts", "--fork", "sh", "-c", inner, "sh", hostname, *command]

    def log_for(self, name: str) -> OdooLog:
        self.runs += 1
        return OdooLog(self.work_dir / f"{self.runs:02d}-{name}.log")

    def run(self, name: str, config: Path, args, env=None, timeout=600,
            hostname: str | None = None) -> OdooLog:
        """odoo-bin ... --stop-after-init; fails the test if it exits non-zero."""
        log = self.log_for(name)
        with log.path.open("w") as out:
            completed = subprocess.run(
                self._command(config, [*args, "--stop-after-init"], hostname),
                stdout=out, stderr=subprocess.STDOUT, env=self._env(env), timeout=timeout)
        assert completed.returncode == 0, f"odoo-bin {name} exited {completed.returncode}:\n" \
                                          f"{log.text()[-4000:]}"
        return log

    def shell(self, name: str, config: Path, dbname: str, script: str) -> str:
        """Run `script` in `odoo-bin shell` (it commits what it wants kept); its standard output."""
        log = self.log_for(name)
        completed = subprocess.run(
            [str(self.python), str(source_tree() / "odoo-bin"), "shell", "-c", str(config),
             "-d", dbname, "--no-http", f"--logfile={log.path}"],
            input=script, capture_output=True, text=True, env=self._env(None), timeout=120)
        assert completed.returncode == 0, completed.stderr[-4000:] + log.text()[-4000:]
        return completed.stdout

    def _env(self, extra):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("MCP_", "ODOO_STAGE", "PYTHON"))}
        env.update(extra or {})
        return env

    def serve(self, name: str, config: Path, dbname: str, workers: int = 0,
              hostname: str | None = None, env=None) -> "OdooServer":
        http_port = free_port()
        args = ["-d", dbname, f"--db-filter=^{re.escape(dbname)}$", f"--http-port={http_port}"]
        if workers:
            args += [f"--workers={workers}", "--max-cron-threads=1",
                     f"--gevent-port={free_port()}"]
        else:
            args += ["--max-cron-threads=0"]
        log = self.log_for(name)
        out = log.path.open("w")
        process = subprocess.Popen(self._command(config, args, hostname), stdout=out,
                                   stderr=subprocess.STDOUT, env=self._env(env),
                                   start_new_session=True)
        out.close()
        server = OdooServer(process, http_port, log, dbname)
        self.started.append(server)
        server.wait_ready()
        return server


class OdooServer:
    def __init__(self, process, port, log: OdooLog, dbname):
        self.process = process
        self.port = port
        self.log = log
        self.dbname = dbname
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"Odoo exited {self.process.returncode}:\n"
                                     f"{self.log.text()[-4000:]}")
            try:
                # /web/webclient/version_info answers on every version without touching the addon
                response = requests.post(f"{self.url}/web/webclient/version_info",
                                         json={"jsonrpc": "2.0", "params": {}}, timeout=2)
                if response.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"Odoo did not answer within {timeout} s:\n{self.log.text()[-4000:]}")

    def stop(self):
        if self.process.poll() is None:
            # the whole session: unshare, odoo-bin's master, its workers and gevent child
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
