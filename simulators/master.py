"""One generation of one simulated Odoo server: `python -m simulators.master --control-fd N`.

A new interpreter per generation is a new container: nothing of the previous generation's module
state survives (the addon's `_server_start_time`, get_param caches, threads), whatever process
started it. Inside, this master behaves like Odoo's PreforkServer:

1. enter the container (hostname, addresses, ODOO_STAGE), freeze time on the shared clock, install
   the instrumentation (outgoing HTTP and the addon's logs become events);
2. prepare the database: install it (generation 0: base, the receiver settings, then the addon,
   whose post_init_hook registers after the commit), copy and neutralize it (a staging build), or
   keep it (a rebuild);
3. preload the registry (`odoo-bin -d db`: the addon is imported before the fork) unless told not
   to, bind the HTTP socket on 127.0.0.1 and fork W HTTP workers and one cron worker (os.fork),
   each with its own module state from then on;
4. answer the orchestrator once every worker is in its loop, then obey it: quiesce (count live
   threads), tick (one cron run), recycle a worker, release database connections, stop. A worker
   that dies unexpectedly is replaced, as Odoo does, and reported.

HTTP workers accept from the shared listening socket one connection at a time and serve
`odoo.http.root` through werkzeug's request handler (HTTP/1.0: one request per connection), like
Odoo's prefork HTTP workers. Before each request and each cron run a process moves its frozen
time to the shared clock.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import socket
import sys
import threading
import traceback

from .channel import Channel, ChannelClosed, ChannelTimeout
from .clock import FrozenProcessClock, Real, SharedClock
from .container import Container, enter
from .events import EventWriter
from .pgadmin import admin_execute

_logger = logging.getLogger("simulators.master")

URL_KEY = "mcp.phone_home_url"
TOKEN_KEY = "mcp.phone_home_token"
THREAD_WAIT_SECONDS = 30.0
TICK_TIMEOUT_SECONDS = 120.0
WORKER_REPLY_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0


def _other_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and t.is_alive()]


def wait_for_threads(limit: float = THREAD_WAIT_SECONDS) -> list[str]:
    """Join this process' other threads within `limit` real seconds; names of those still alive."""
    deadline = Real.monotonic() + limit
    for thread in _other_threads():
        remaining = deadline - Real.monotonic()
        if remaining > 0:
            thread.join(remaining)  # threading's own timeout: real time
    return [t.name for t in _other_threads()]


# ---------------------------------------------------------------- the simulated Odoo

def _as_list(value) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [part for part in (value or []) if part]


def configure_odoo(spec: dict, http_port: int) -> None:
    from odoo.tools import config

    config["data_dir"] = spec["data_dir"]
    config["sim_db_dsn"] = spec.get("db_dsn") or ""
    list_typed = isinstance(config["addons_path"], list)
    paths = list(dict.fromkeys(_as_list(config["addons_path"]) + list(spec["addons_paths"])))
    config["addons_path"] = paths if list_typed else ",".join(paths)
    # The database this server serves: str on 17/18, a list on 19 (same type as the default).
    config["db_name"] = [spec["dbname"]] if isinstance(config["db_name"], list) else spec["dbname"]
    config["dbfilter"] = ""
    config["http_port"] = http_port


def copy_database(source: str, target: str) -> None:
    """An Odoo.sh staging build: a copy of production's database (same backend)."""
    from odoo import sql_db
    from odoo.tools import config

    if sql_db.backend_name() == "postgresql":
        admin_execute(config["sim_db_dsn"], f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
        return
    import sqlite3

    source_path = sql_db._sqlite_path(source)
    target_path = sql_db._sqlite_path(target)
    if os.path.exists(target_path):
        raise FileExistsError(f"database {target!r} already exists")
    src = sqlite3.connect(source_path)
    dst = sqlite3.connect(target_path)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")
    finally:
        dst.close()
        src.close()


def neutralize(dbname: str) -> None:
    """What Odoo does to a staging copy: every cron but the autovacuum deactivated."""
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    registry = Registry(dbname)
    with registry.cursor() as cr:
        cr.execute("""
            UPDATE ir_cron SET active = %s
             WHERE id NOT IN (SELECT res_id FROM ir_model_data
                               WHERE model = 'ir.cron' AND module = 'base' AND name = 'autovacuum_job')
        """, (False,))
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].sudo().set_param("database.is_neutralized", "True")
    registry.clear_cache()
    registry.signal_changes()


def install(spec: dict) -> None:
    """Generation 0 of a fresh server: base, the receiver settings, then the addon."""
    from odoo import SUPERUSER_ID, api
    from odoo.service import db as service_db

    registry = service_db.create_database(spec["dbname"])
    with registry.cursor() as cr:
        icp = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].sudo()
        icp.set_param(URL_KEY, spec["receiver_url"])
        if spec.get("token"):
            icp.set_param(TOKEN_KEY, spec["token"])
    # post_init_hook: the addon registers once the install has committed.
    service_db.install_modules(spec["dbname"], [spec["addon"]])


def prepare_database(spec: dict, writer: EventWriter) -> None:
    mode = spec["mode"]
    started = Real.perf_counter()
    if mode == "install":
        install(spec)
    elif mode == "copy":
        copy_database(spec["source_db"], spec["dbname"])
        neutralize(spec["dbname"])
    left = wait_for_threads()
    writer.emit("database_ready", mode=mode, duration=round(Real.perf_counter() - started, 4),
                threads_left=left)


# ---------------------------------------------------------------- workers

def _http_worker(listen: socket.socket, channel: Channel, clock: FrozenProcessClock, master_pid: int):
    from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

    import odoo.http

    class Handler(WSGIRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection, then the next accept
        timeout = 30

    class Server(BaseWSGIServer):
        def finish_request(self, request, client_address):
            clock.sync()
            super().finish_request(request, client_address)

    host, port = listen.getsockname()[:2]
    server = Server(host, port, odoo.http.root, handler=Handler, fd=listen.fileno())
    server.socket.setblocking(False)
    while True:
        if os.getppid() != master_pid:
            return 0
        readable, _, _ = select.select([server.socket, channel.sock], [], [], 1.0)
        if channel.sock in readable or channel.pending():
            if _answer(channel, "http") == "exit":
                return 0
        if server.socket in readable:
            server._handle_request_noblock()  # EAGAIN when a sibling accepted first: nothing


def _cron_worker(channel: Channel, clock: FrozenProcessClock, dbname: str, master_pid: int):
    while True:
        if os.getppid() != master_pid:
            return 0
        readable, _, _ = select.select([channel.sock], [], [], 1.0)
        if readable or channel.pending():
            if _answer(channel, "cron", clock=clock, dbname=dbname) == "exit":
                return 0


def _answer(channel: Channel, role: str, clock=None, dbname=None) -> str | None:
    """Handle one command from the master."""
    try:
        message = channel.recv(10.0)
    except (ChannelClosed, ChannelTimeout):
        return "exit"
    command = message.get("cmd")
    if command == "exit":
        return "exit"
    if command == "ping":
        channel.send({"ok": True})
    elif command == "threads":
        channel.send({"threads": [t.name for t in _other_threads()]})
    elif command == "release_db":
        from odoo import sql_db

        sql_db.close_all()
        channel.send({"ok": True})
    elif command == "tick" and role == "cron":
        sim = clock.sync()
        started = Real.perf_counter()
        from odoo.modules.registry import Registry

        Registry(dbname)["ir.cron"]._process_jobs(dbname)  # like Odoo's cron worker: never raises
        channel.send({"ok": True, "sim": sim, "duration": round(Real.perf_counter() - started, 4)})
    else:
        channel.send({"ok": False, "error": f"unknown command {command!r} for {role}"})
    return None


class Worker:
    def __init__(self, role: str, index: int, pid: int, channel: Channel):
        self.role = role
        self.index = index
        self.pid = pid
        self.channel = channel

    @property
    def name(self) -> str:
        return "cron" if self.role == "cron" else f"http-{self.index}"


class Master:
    def __init__(self, spec: dict, control: Channel):
        self.spec = spec
        self.control = control
        self.workers: list[Worker] = []
        self.expected_exits: set[int] = set()
        self.listen: socket.socket | None = None
        self.pid = os.getpid()

    # -- boot
    def boot(self) -> dict:
        spec = self.spec
        enter(Container.from_json(spec["container"]))
        self.shared = SharedClock(spec["clock_path"])
        self.clock = FrozenProcessClock(self.shared)
        self.writer = EventWriter(spec["events_path"], clock=self.shared, server=spec["server"],
                                  gen=spec["gen"], role="master")
        logging.basicConfig(
            filename=spec["log_path"], level=logging.INFO,
            format=f"%(asctime)s %(process)d {spec['server']}/g{spec['gen']} %(levelname)s %(name)s: "
                   "%(message)s")
        from . import instrument

        instrument.install(self.writer)
        from . import paths

        paths.check_no_real_odoo()
        import odoo  # noqa: F401 - the simulated Odoo, from <repo>/src

        self.listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listen.bind(("127.0.0.1", 0))
        self.listen.listen(128)
        self.listen.setblocking(False)
        port = self.listen.getsockname()[1]
        configure_odoo(spec, port)

        if spec["mode"] in ("install", "copy") and not spec["preload"]:
            self._prepare_in_child()  # `odoo-bin -i ... --stop-after-init`, then a server without -d
        else:
            prepare_database(spec, self.writer)
        if spec["preload"]:
            from odoo.modules.registry import Registry

            Registry(spec["dbname"])
        for index in range(spec["workers"]):
            self.workers.append(self._spawn("http", index))
        self.workers.append(self._spawn("cron", 0))
        self._wait_until_serving(self.workers)
        return {"ok": True, "port": port, "pid": self.pid,
                "workers": {w.name: w.pid for w in self.workers}}

    def _wait_until_serving(self, workers: list[Worker]) -> None:
        """Ready means every worker is in its loop: an HTTP worker that is still importing cannot
        accept, and a burst sent then is served by whichever sibling got there first, one request
        at a time, which is not the concurrency the orchestrator asked for."""
        for worker in workers:
            answer = self._ask(worker, {"cmd": "ping"}, WORKER_REPLY_SECONDS)
            if not answer.get("ok"):
                raise RuntimeError(f"{worker.name} did not start: {answer.get('error')}")

    def _prepare_in_child(self):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                prepare_database(self.spec, self.writer)
                code = 0
            except BaseException:  # noqa: BLE001 - report, then leave without running the parent's code
                _logger.exception("preparing the database failed")
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("preparing the database failed (see the log)")

    def _spawn(self, role: str, index: int) -> Worker:
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                parent_end.close()
                self.control.close()
                for worker in self.workers:
                    worker.channel.close()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                channel = Channel(child_end)
                name = "cron" if role == "cron" else f"http-{index}"
                self.writer.context["role"] = name
                if role == "cron":
                    self.listen.close()
                    code = _cron_worker(channel, self.clock, self.spec["dbname"], self.pid)
                else:
                    code = _http_worker(self.listen, channel, self.clock, self.pid)
            except BaseException:  # noqa: BLE001 - a worker never returns into the master's code
                _logger.exception("worker crashed")
                try:
                    self.writer.emit("worker_crashed", error=traceback.format_exc()[-3000:])
                except Exception:  # noqa: BLE001
                    pass
            finally:
                logging.shutdown()
                os._exit(code or 0)
        child_end.close()
        worker = Worker(role, index, pid, Channel(parent_end))
        self.writer.emit("worker_started", worker=worker.name, worker_pid=pid)
        return worker

    # -- serving the orchestrator
    def serve(self) -> int:
        while True:
            self._reap()
            sockets = [self.control.sock] + [w.channel.sock for w in self.workers]
            readable, _, _ = select.select(sockets, [], [], 0.5)
            for worker in list(self.workers):
                if worker.channel.sock in readable:
                    self._drain_worker(worker)
            if self.control.sock in readable or self.control.pending():
                try:
                    message = self.control.recv(10.0)
                except (ChannelClosed, ChannelTimeout):
                    self._stop()  # the orchestrator is gone: leave no orphans
                    return 1
                reply = self._handle(message)
                try:
                    self.control.send(reply)
                except ChannelClosed:
                    self._stop()
                    return 1
                if message.get("cmd") == "stop":
                    return 0

    def _handle(self, message: dict) -> dict:
        command = message.get("cmd")
        try:
            if command == "quiesce":
                return self._quiesce()
            if command == "tick":
                return self._tick()
            if command == "recycle":
                return self._recycle(message.get("worker"), bool(message.get("hard")))
            if command == "release_db":
                return self._release_db()
            if command == "api_key":
                return self._api_key()
            if command == "stop":
                self._stop()
                return {"ok": True}
            return {"ok": False, "error": f"unknown command {command!r}"}
        except Exception:  # noqa: BLE001 - answer, never die silently
            return {"ok": False, "error": traceback.format_exc()[-3000:]}

    def _ask(self, worker: Worker, message: dict, timeout: float) -> dict:
        try:
            return worker.channel.request(message, timeout)
        except (ChannelClosed, ChannelTimeout) as exc:
            return {"ok": False, "error": f"{worker.name} (pid {worker.pid}) did not answer: {exc}"}

    def _quiesce(self) -> dict:
        detail = {"master": [t.name for t in _other_threads()]}
        errors = []
        for worker in self.workers:
            answer = self._ask(worker, {"cmd": "threads"}, WORKER_REPLY_SECONDS)
            if "threads" in answer:
                detail[worker.name] = answer["threads"]
            else:
                errors.append(answer.get("error"))
        busy = sum(len(names) for names in detail.values())
        return {"ok": not errors, "busy": busy, "threads": detail, "error": "; ".join(errors) or None}

    def _tick(self) -> dict:
        cron = next(w for w in self.workers if w.role == "cron")
        return self._ask(cron, {"cmd": "tick"}, TICK_TIMEOUT_SECONDS)

    def _find(self, which) -> Worker:
        for worker in self.workers:
            if (which == "cron" and worker.role == "cron") or (
                    worker.role == "http" and str(worker.index) == str(which)):
                return worker
        raise ValueError(f"no worker {which!r}")

    def _recycle(self, which, hard: bool) -> dict:
        old = self._find(which)
        self.expected_exits.add(old.pid)
        if hard:
            os.kill(old.pid, signal.SIGKILL)
        else:
            try:
                old.channel.send({"cmd": "exit"})
            except ChannelClosed:
                pass
        self._wait_pid(old.pid, STOP_GRACE_SECONDS)
        old.channel.close()
        self.workers.remove(old)
        new = self._spawn(old.role, old.index)
        self.workers.append(new)
        self._wait_until_serving([new])
        self.writer.emit("worker_recycled", worker=new.name, old_pid=old.pid, new_pid=new.pid, hard=hard)
        return {"ok": True, "old_pid": old.pid, "new_pid": new.pid}

    def _api_key(self) -> dict:
        """A new API key of the admin user, for an agent: what a user makes in Odoo's preferences."""
        from odoo import SUPERUSER_ID, api
        from odoo.modules.registry import Registry

        with Registry(self.spec["dbname"]).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            apikeys = env["res.users.apikeys"].with_user(env.ref("base.user_admin"))
            key = apikeys._generate("rpc", "simulators demo agent", None)
        return {"ok": True, "key": key}

    def _release_db(self) -> dict:
        from odoo import sql_db

        errors = []
        for worker in self.workers:
            answer = self._ask(worker, {"cmd": "release_db"}, WORKER_REPLY_SECONDS)
            if not answer.get("ok"):
                errors.append(answer.get("error"))
        sql_db.close_all()
        return {"ok": not errors, "error": "; ".join(errors) or None}

    def _wait_pid(self, pid: int, limit: float) -> None:
        deadline = Real.monotonic() + limit
        while Real.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            select.select([], [], [], 0.02)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def _stop(self) -> None:
        for worker in self.workers:
            self.expected_exits.add(worker.pid)
            try:
                worker.channel.send({"cmd": "exit"})
            except ChannelClosed:
                pass
        for worker in self.workers:
            self._wait_pid(worker.pid, STOP_GRACE_SECONDS)
            worker.channel.close()
        self.workers = []
        if self.listen is not None:
            self.listen.close()
        self.writer.emit("master_stopped")

    def _drain_worker(self, worker: Worker) -> None:
        """A worker channel is readable outside of a request: it closed (the worker died)."""
        try:
            chunk = worker.channel.sock.recv(65536, socket.MSG_PEEK)
        except OSError:
            chunk = b""
        if chunk:
            try:  # a late answer to a request that timed out: drop it
                stale = worker.channel.recv(1.0)
                _logger.warning("dropped a late message from %s: %s", worker.name, stale)
            except (ChannelClosed, ChannelTimeout):
                pass
            return
        self._wait_pid(worker.pid, 1.0)
        self.expected_exits.discard(worker.pid)
        self._replace_dead(worker, None)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            if pid in self.expected_exits:
                self.expected_exits.discard(pid)
                continue
            worker = next((w for w in self.workers if w.pid == pid), None)
            if worker is not None:
                self._replace_dead(worker, os.waitstatus_to_exitcode(status))

    def _replace_dead(self, worker: Worker, code) -> None:
        if worker not in self.workers:
            return
        self.expected_exits.discard(worker.pid)
        self.writer.emit("worker_died", worker=worker.name, worker_pid=worker.pid, exit_code=code)
        worker.channel.close()
        self.workers.remove(worker)
        self.workers.append(self._spawn(worker.role, worker.index))  # Odoo replaces dead workers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.master")
    parser.add_argument("--control-fd", type=int, required=True)
    args = parser.parse_args(argv)
    # Ctrl-C in a terminal reaches the whole process group: the orchestrator decides, and a
    # closed control channel stops this master and its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = Channel(socket.socket(fileno=args.control_fd))
    try:
        spec = control.recv(60.0)
    except (ChannelClosed, ChannelTimeout):
        return 1
    master = Master(spec, control)
    try:
        answer = master.boot()
    except BaseException:  # noqa: BLE001 - told to the orchestrator, which reports it
        _logger.exception("the simulated server did not start")
        try:
            control.send({"ok": False, "error": traceback.format_exc()[-4000:]})
        except ChannelClosed:
            pass
        for worker in master.workers:
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return 1
    control.send(answer)
    try:
        return master.serve()
    finally:
        logging.shutdown()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
