"""Fixtures for the simulators' tests: the project's receiver as a subprocess on a free port, an
independent recording endpoint, simulations that are always closed, PostgreSQL when available."""

from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from simulators_support import START, TEST_ADDONS

from simulators import Simulation
from simulators.receiver_process import ReceiverProcess


@pytest.fixture
def receiver(tmp_path):
    """The project's receiver (python -m receiver) on 127.0.0.1:<free port>, SQLite in tmp_path."""
    process = ReceiverProcess(str(tmp_path / "fleet.db"), log_path=str(tmp_path / "receiver.log"))
    process.start()
    yield process
    process.stop()


class Recorder:
    """A tiny independent HTTP endpoint that records every request and answers 2xx."""

    def __init__(self):
        self.requests: list[dict] = []
        self.register_delay = 0.0  # seconds before answering POST .../register (a slow receiver)
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                with recorder._lock:
                    recorder.requests.append({"method": self.command, "path": self.path,
                                              "headers": dict(self.headers), "body": body})
                if self.path.endswith("/register") and recorder.register_delay:
                    time.sleep(recorder.register_delay)
                status = 201 if self.path.endswith("/register") else 200
                data = b'{"status": "ok"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _record

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    endpoint = Recorder()
    yield endpoint
    endpoint.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"simulators_{report.when}_failed", report.failed)


@pytest.fixture
def make_sim(request, tmp_path_factory):
    """make_sim(receiver_url, **kwargs) -> Simulation, closed (processes stopped) after the test.

    When the test fails, the run's logs and events.jsonl are copied under pytest's tmp directory
    and the path is printed (shown with the failure)."""
    sims = []

    def make(url, **kwargs):
        kwargs.setdefault("seed", 11)
        kwargs.setdefault("start", START)
        kwargs.setdefault("extra_addons_paths", [str(TEST_ADDONS)])
        sim = Simulation(url, **kwargs)
        sims.append(sim)
        return sim

    yield make
    failed = getattr(request.node, "simulators_call_failed", False)
    for index, sim in enumerate(sims):
        if failed:
            target = tmp_path_factory.mktemp(f"failed-sim-{index}")
            for name in ("events.jsonl", "logs"):
                source = sim.run_dir / name
                if source.is_dir():
                    shutil.copytree(source, target / name)
                elif source.exists():
                    shutil.copy(source, target / name)
            print(f"simulation {index}: logs and events kept in {target}")
        sim.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_dsn(request):
    """None (SQLite), then the PostgreSQL DSN when available."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_dsn")
