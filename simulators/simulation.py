"""The orchestrator's Python API: simulated Odoo servers, their rebuilds, and the simulated clock.

    sim = Simulation("http://127.0.0.1:8765", seed=1)
    prod = sim.add_server("prod", workers=4, stage="production")
    prod.start()                 # generation 0: the install, which registers
    prod.health_burst(20)        # 20 concurrent GET /mcp/v1/health on the workers
    sim.advance_minutes(3)       # the cron runs once per simulated minute
    prod.rebuild()               # a new container: new hostname, fresh workers, same database
    staging = prod.staging_copy("staging")
    staging.start()
    report = sim.report()        # timeline and summary, from the recorded events
    sim.close()

The orchestrator never loads the addon and never talks to the receiver: everything the receiver
gets is sent by the addon, inside the simulated servers. Each generation runs in a new master
process (see simulators.master) which forks the HTTP and cron workers.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import paths
from .channel import Channel, ChannelClosed, ChannelTimeout
from .clock import SharedClock
from .container import Container
from .events import EventReader, EventWriter
from .pgadmin import admin_execute
from .report import build_report

ADDON = "odoo_dev_mcp"
LEGACY_ADDON = "odoo_dev_mcp_legacy"
STARTUP_TIMEOUT = 120.0
QUIESCE_TIMEOUT = 45.0
HEALTH_TIMEOUT = 30.0
ACCEPT_SETTLE = 0.3  # real seconds for the workers to accept a burst's connections


class SimulationError(RuntimeError):
    """The simulation itself broke (a process crashed, the database is unreachable, ...)."""


@dataclass
class BurstResult:
    requests: int
    statuses: dict = field(default_factory=dict)
    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def all_ok(self) -> bool:
        return not self.errors and self.statuses.get(200, 0) == self.requests

    @property
    def max_latency(self) -> float:
        return max(self.latencies, default=0.0)


def _floor_minute(epoch: float) -> float:
    return float(int(epoch) // 60 * 60)


def _parse_start(start) -> float:
    if start is None:
        return _floor_minute(time.time())
    if isinstance(start, (int, float)):
        return float(start)
    from datetime import datetime, timezone

    text = str(start).strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def check_receiver_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"receiver URL must be an http(s) URL with a host, got {url!r}")
    return url


class Simulation:
    """One run: a run directory, the shared simulated clock, the event log, the servers."""

    def __init__(self, receiver_url: str, *, token: str | None = None, seed: int | None = None,
                 start=None, db_dsn: str | None = None, run_dir: str | None = None,
                 keep: bool = False, quiesce_timeout: float = QUIESCE_TIMEOUT,
                 extra_addons_paths: list[str] | tuple[str, ...] = ()):
        paths.check_no_real_odoo()
        self.receiver_url = check_receiver_url(receiver_url)
        self.token = token or None
        self.seed = seed
        self.rng = random.Random(seed)
        self.db_dsn = db_dsn or None
        self.keep = keep
        self.quiesce_timeout = quiesce_timeout
        self.addons_paths = [str(paths.ADDONS), str(paths.LEGACY_ADDONS), *map(str, extra_addons_paths)]
        self._own_run_dir = run_dir is None
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="odoo-sim-run-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        self.data_dir = self.run_dir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.events_path = str(self.run_dir / "events.jsonl")
        self.clock = SharedClock(str(self.run_dir / "clock"), create_at=_parse_start(start))
        self.start_sim = self.clock.now()
        self.start_real = time.time()
        self.writer = EventWriter(self.events_path, clock=self.clock, server=None, gen=None,
                                  role="orchestrator")
        self.reader = EventReader(self.events_path)
        self.servers: dict[str, SimulatedServer] = {}
        self.run_id = f"{self.rng.getrandbits(24):06x}"
        self._hostnames: set[str] = set()
        self._created_dbs: list[str] = []
        self._closed = False
        self.writer.emit("run_started", receiver=self.receiver_url, seed=seed, run_dir=str(self.run_dir),
                         backend="postgresql" if self.db_dsn else "sqlite",
                         flavour=os.environ.get("ODOO_SIM_VERSION", "17.0"))

    # -- servers
    def add_server(self, name: str, *, workers: int = 4, stage: str = "production",
                   preload: bool = True, addon: str = ADDON, dbname: str | None = None,
                   source: SimulatedServer | None = None) -> SimulatedServer:
        if name in self.servers:
            raise ValueError(f"a server named {name!r} exists already")
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"server name {name!r}: letters, digits, - and _ only")
        if workers < 1:
            raise ValueError("a server needs at least one HTTP worker")
        server = SimulatedServer(self, name, workers=workers, stage=stage, preload=preload,
                                 addon=addon, dbname=dbname or self._dbname(name), source=source)
        self.servers[name] = server
        return server

    def _dbname(self, name: str) -> str:
        base = f"{name.replace('-', '_')}_{self.run_id}"
        if self.db_dsn:
            existing = set(_pg_databases(self.db_dsn))
            while base in existing:
                base = f"{name.replace('-', '_')}_{os.urandom(3).hex()}"
        return base

    def new_container(self, server: SimulatedServer, generation: int) -> Container:
        while True:
            hostname = f"{server.name}-{self.rng.getrandbits(32):08x}"
            if hostname not in self._hostnames:
                break
        self._hostnames.add(hostname)
        index = list(self.servers).index(server.name) + 1
        a, b = self.rng.randrange(256), self.rng.randrange(1, 255)
        addresses = (f"10.{generation % 256}.{a}.{b}", f"fd00:{index:x}:{generation:x}::{a:x}{b:02x}")
        return Container(hostname, addresses, server.stage)

    # -- time
    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move simulated time forward, without any cron run."""
        if seconds < 0:
            raise ValueError("simulated time only moves forward")
        value = self.clock.advance(seconds)
        self.writer.emit("clock", advanced=seconds)
        return value

    def advance_minutes(self, minutes: int = 1) -> None:
        """`minutes` times: one simulated minute passes, then every running server's cron runs."""
        for _ in range(int(minutes)):
            self.clock.advance(60)
            self.writer.emit("clock", advanced=60)
            for server in self.running():
                server.tick()
            self.quiesce()

    def running(self) -> list[SimulatedServer]:
        return [server for server in self.servers.values() if server.running]

    def quiesce(self, limit: float | None = None) -> None:
        for server in self.running():
            server.quiesce(limit)

    # -- results
    def events(self) -> list[dict]:
        return self.reader.all()

    def report(self):
        from .report import build_report

        return build_report(self.events())

    # -- end
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        errors = []
        for server in list(self.servers.values()):
            try:
                server.stop()
            except SimulationError as exc:
                errors.append(str(exc))
        self.writer.emit("run_stopped")
        self.reader.all()
        if self.db_dsn and not self.keep:
            for dbname in self._created_dbs:
                try:
                    _pg_drop(self.db_dsn, dbname)
                except Exception as exc:  # noqa: BLE001 - cleanup is best effort, but told
                    errors.append(f"could not drop database {dbname}: {exc}")
        self.clock.close()
        self.writer.close()
        if self._own_run_dir and not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        if errors:
            raise SimulationError("; ".join(errors))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.close()
        except SimulationError:
            if exc[0] is None:
                raise


class SimulatedServer:
    """One Odoo server: one database shared by all its processes, one container per generation."""

    def __init__(self, sim: Simulation, name: str, *, workers: int, stage: str, preload: bool,
                 addon: str, dbname: str, source: SimulatedServer | None):
        self.sim = sim
        self.name = name
        self.workers = workers
        self.stage = stage
        self.preload = preload
        self.addon = addon
        self.dbname = dbname
        self.source = source
        self.generation = -1
        self.container: Container | None = None
        self.port: int | None = None
        self.pids: dict = {}
        self._process: subprocess.Popen | None = None
        self._control: Channel | None = None
        self._log = None

    # -- state
    @property
    def running(self) -> bool:
        return self._process is not None

    @property
    def hostname(self) -> str | None:
        return self.container.hostname if self.container else None

    @property
    def server_id(self) -> str | None:
        return f"{self.dbname}_{self.hostname}" if self.container else None

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port else None

    def __repr__(self):
        return f"<SimulatedServer {self.name} gen {self.generation} {self.hostname}>"

    # -- generations
    def start(self) -> SimulatedServer:
        """Generation 0: install the addon on a new database (or copy the source's, for staging)."""
        if self.generation >= 0:
            raise SimulationError(f"{self.name} was started already; use rebuild()")
        if self.source is not None:
            self.source._release_db()
            self._launch(0, "copy", "staging")
        else:
            self._launch(0, "install", "install")
        return self

    def rebuild(self) -> SimulatedServer:
        """A new container (new hostname and addresses), fresh workers, the same database."""
        if self.generation < 0:
            raise SimulationError(f"{self.name} must be started before it is rebuilt")
        self.stop()
        self._launch(self.generation + 1, "run", "rebuild")
        return self

    def _launch(self, generation: int, mode: str, kind: str) -> None:
        sim = self.sim
        container = sim.new_container(self, generation)
        self.generation = generation
        self.container = container
        log_path = sim.run_dir / "logs" / f"{self.name}-g{generation}.log"
        spec = {
            "server": self.name, "gen": generation, "mode": mode, "container": container.to_json(),
            "dbname": self.dbname, "source_db": self.source.dbname if self.source else None,
            "receiver_url": sim.receiver_url, "token": sim.token, "workers": self.workers,
            "preload": self.preload, "addon": self.addon, "db_dsn": sim.db_dsn,
            "data_dir": str(sim.data_dir), "events_path": sim.events_path,
            "clock_path": sim.clock.path, "log_path": str(log_path),
            "addons_paths": list(sim.addons_paths),
        }
        sim.writer.emit("generation_started", server=self.name, gen=generation, kind=kind,
                        hostname=container.hostname, addresses=list(container.addresses),
                        stage=container.stage, dbname=self.dbname, workers=self.workers,
                        preload=self.preload, addon=self.addon)
        if mode in ("install", "copy"):
            sim._created_dbs.append(self.dbname)
        parent_end, child_end = socket.socketpair()
        extra = {"ODOO_SIM_DATA_DIR": str(sim.data_dir)}
        if sim.db_dsn:
            extra["ODOO_SIM_DB_DSN"] = sim.db_dsn
        self._log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "simulators.master", "--control-fd", str(child_end.fileno())],
                pass_fds=(child_end.fileno(),), env=paths.child_environment(extra),
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, cwd=str(paths.REPO))
        finally:
            child_end.close()
        self._control = Channel(parent_end)
        try:
            self._control.send(spec)
            answer = self._control.recv(STARTUP_TIMEOUT)
        except (ChannelClosed, ChannelTimeout) as exc:
            self._kill()
            raise SimulationError(
                f"{self.name} generation {generation} did not start: {exc}\n{_tail(log_path)}") from exc
        if not answer.get("ok"):
            self._kill()
            raise SimulationError(f"{self.name} generation {generation} did not start:\n"
                                  f"{answer.get('error')}\n{_tail(log_path)}")
        self.port = answer["port"]
        self.pids = answer["workers"]
        sim.writer.emit("generation_ready", server=self.name, gen=generation, port=self.port,
                        master_pid=answer["pid"], workers_pids=self.pids)

    def _request(self, message: dict, timeout: float) -> dict:
        if not self.running:
            raise SimulationError(f"{self.name} is not running")
        try:
            answer = self._control.request(message, timeout)
        except (ChannelClosed, ChannelTimeout) as exc:
            log = self.sim.run_dir / "logs" / f"{self.name}-g{self.generation}.log"
            raise SimulationError(f"{self.name}: the master did not answer {message.get('cmd')!r}: "
                                  f"{exc}\n{_tail(log)}") from exc
        return answer

    def api_key(self) -> str:
        """An API key of this server's admin user (for an MCP client)."""
        answer = self._request({"cmd": "api_key"}, 30.0)
        if not answer.get("ok"):
            raise SimulationError(f"{self.name}: no API key: {answer.get('error')}")
        return answer["key"]

    # -- traffic and time
    def health_burst(self, n: int, *, path: str = "/mcp/v1/health", wait: bool = True) -> BurstResult:
        """`n` concurrent GET requests on the workers, then (wait=True) until their threads finish.

        All `n` connections are opened first and the workers get ACCEPT_SETTLE seconds to accept
        them; only then do the requests go, together. A prefork worker holds one connection at a
        time, so every worker that accepted is then serving a request at the same moment. Sending
        at once on fresh connections did not do that: on a busy machine one worker could accept
        and answer the whole burst before its siblings were scheduled, and nothing raced.
        """
        if not self.running:
            raise SimulationError(f"{self.name} is not running")
        result = BurstResult(requests=n)
        if n <= 0:
            self.sim.writer.emit("health_burst", server=self.name, gen=self.generation, requests=0,
                                 statuses={}, max_latency=0.0, errors=[])
            return result
        connected = threading.Barrier(n + 1)
        go = threading.Event()
        answers: list = [None] * n

        def hit(i):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HEALTH_TIMEOUT)
            connect_error = None
            try:
                connection.connect()
            except OSError as exc:
                connect_error = f"{type(exc).__name__}: {exc}"
            try:
                connected.wait(10)
            except threading.BrokenBarrierError:
                pass
            go.wait(10)
            if connect_error:
                answers[i] = (None, 0.0, connect_error)
                return
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                answers[i] = (response.status, time.perf_counter() - started, None)
            except (OSError, http.client.HTTPException) as exc:
                answers[i] = (None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
            finally:
                connection.close()

        threads = [threading.Thread(target=hit, args=(i,), name=f"health-{i}", daemon=True)
                   for i in range(n)]
        for thread in threads:
            thread.start()
        try:
            connected.wait(10)
        except threading.BrokenBarrierError:
            pass
        time.sleep(ACCEPT_SETTLE)
        go.set()
        for thread in threads:
            thread.join(HEALTH_TIMEOUT + 15)
        statuses = Counter()
        for answer in answers:
            if answer is None:
                result.errors.append("no answer (client thread still waiting)")
                continue
            status, latency, error = answer
            result.latencies.append(round(latency, 4))
            if error:
                result.errors.append(error)
            else:
                statuses[status] += 1
        result.statuses = dict(statuses)
        self.sim.writer.emit("health_burst", server=self.name, gen=self.generation, requests=n,
                             statuses={str(k): v for k, v in statuses.items()},
                             max_latency=result.max_latency, errors=result.errors[:5])
        if wait:
            self.quiesce()
        return result

    def quiesce(self, limit: float | None = None) -> None:
        """Wait (bounded, real time) until no process of this server runs a background thread."""
        limit = self.sim.quiesce_timeout if limit is None else limit
        deadline = time.monotonic() + limit
        while True:
            answer = self._request({"cmd": "quiesce"}, limit + 5)
            if not answer.get("ok"):
                raise SimulationError(f"{self.name}: {answer.get('error')}")
            if answer["busy"] == 0:
                return
            if time.monotonic() > deadline:
                self.sim.writer.emit("quiesce_timeout", server=self.name, gen=self.generation,
                                     threads=answer["threads"])
                raise SimulationError(f"{self.name}: background threads still running after {limit} s: "
                                      f"{answer['threads']}")
            time.sleep(0.02)

    def tick(self) -> dict:
        """One cron run at the current simulated time (Odoo's cron worker waking up)."""
        answer = self._request({"cmd": "tick"}, 150)
        if not answer.get("ok"):
            raise SimulationError(f"{self.name}: cron run failed: {answer.get('error')}")
        self.sim.writer.emit("tick", server=self.name, gen=self.generation, duration=answer["duration"])
        return answer

    def advance_minutes(self, minutes: int = 1) -> None:
        self.sim.advance_minutes(minutes)

    def recycle_worker(self, which=0, *, hard: bool = False) -> dict:
        """Replace one worker (an index, or "cron") by a fresh fork of the master, no rebuild.

        hard=True kills it (SIGKILL, Odoo's time limit); otherwise it exits between requests
        (Odoo's request/memory limit). Either way its background threads die with it.
        """
        answer = self._request({"cmd": "recycle", "worker": which, "hard": hard}, 60)
        if not answer.get("ok"):
            raise SimulationError(f"{self.name}: recycling {which!r} failed: {answer.get('error')}")
        self.pids = {name: answer["new_pid"] if pid == answer["old_pid"] else pid
                     for name, pid in self.pids.items()}
        return answer

    def staging_copy(self, name: str, *, stage: str = "staging", workers: int = 2,
                     preload: bool = True) -> SimulatedServer:
        """A staging server: a neutralized copy of this server's database, another container.

        Call start() on it. The copy is taken then, from this server's database as it is.
        """
        return self.sim.add_server(name, workers=workers, stage=stage, preload=preload,
                                   addon=self.addon, source=self)

    def _release_db(self) -> None:
        if self.running:
            self.quiesce()
            answer = self._request({"cmd": "release_db"}, 60)
            if not answer.get("ok"):
                raise SimulationError(f"{self.name}: {answer.get('error')}")

    def events(self) -> list[dict]:
        return [e for e in self.sim.events() if e.get("server") == self.name]

    # -- end
    def stop(self) -> None:
        if not self.running:
            return
        problem = None
        try:
            answer = self._control.request({"cmd": "stop"}, 30)
            if not answer.get("ok"):
                problem = answer.get("error")
        except (ChannelClosed, ChannelTimeout) as exc:
            problem = f"the master did not stop cleanly: {exc}"
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._kill()
        code = self._process.returncode if self._process else None
        self._cleanup()
        self.sim.writer.emit("generation_stopped", server=self.name, gen=self.generation, exit_code=code)
        if problem:
            raise SimulationError(f"{self.name}: {problem}")

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._control is not None:
            self._control.close()
        if self._log is not None:
            self._log.close()
        self._process = None
        self._control = None
        self._log = None
        self.port = None


def _tail(path, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _pg_databases(dsn: str) -> list[str]:
    return [row[0] for row in admin_execute(dsn, "SELECT datname FROM pg_database", fetch=True)]


def _pg_drop(dsn: str, dbname: str) -> None:
    admin_execute(dsn, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def run_and_report(sim: Simulation, body) -> tuple[dict, str | None]:
    """Run ``body()``, close ``sim`` whatever happened, and return the report
    of everything recorded with the first failure (None if the run held)."""
    failure = None
    try:
        body()
    except SimulationError as exc:
        failure = str(exc)
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        try:
            sim.close()
        except SimulationError as exc:
            failure = failure or str(exc)
    return build_report(sim.reader.all()), failure


def check_pg(dsn: str) -> None:
    """Raise SimulationError if PostgreSQL cannot be reached with `dsn`."""
    try:
        _pg_databases(dsn)
    except Exception as exc:  # noqa: BLE001 - any failure means: unreachable
        raise SimulationError(f"PostgreSQL unreachable at {dsn}: {str(exc).strip()}") from exc


__all__ = ["BurstResult", "Simulation", "SimulatedServer", "SimulationError", "check_pg",
           "run_and_report"]
