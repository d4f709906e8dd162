"""Serving a WSGI app with granian, in this process, and stopping it cleanly.

Why granian (README, "Why granian", has the measurements): its HTTP layer is
Rust (hyper on tokio) and runs outside the GIL, so the Python thread spends
its time in the app.  On the 2-core target the bare Bottle app answered 3 to
4 times as many requests on granian as on waitress, the fastest of the
pure-Python servers tried, with a fifth of the p99.  Wheels for every
platform: ``pip install`` needs no compiler.

How it is run: not through granian's own process manager, which forks a
worker process per CPU.  A receiver owns its database from one process, so
the worker runs *here*, on a socket this module binds:

* ``kill -9`` of the PID an operator started takes everything with it; a
  forked worker would live on, holding the port and the database;
* a second receiver on the same port fails to bind (granian's workers bind
  with SO_REUSEPORT and would silently share the port);
* ``--port 0`` works, and the URL printed is the one served.

That uses granian's worker class directly, an internal interface, which is
why pyproject.toml pins granian's minor version; tests/receiver start the
real CLI, so an incompatible granian fails them at once.

On SIGTERM/SIGINT granian stops accepting and closes idle connections; this
module then waits (bounded by ``drain_seconds``) until no request has been
in the app for a short quiet period, and returns, so the caller closes the
storage only after the last answer.

Malformed HTTP (a bad Content-Length, garbage instead of a request line) is
answered by granian's HTTP layer with an empty ``400``, not JSON: it never
reaches the app.  Everything that reaches the app is answered in JSON.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
import time

from granian._futures import _new_cbscheduler
from granian._granian import SocketHolder, WorkerSignal, WSGIWorker
from granian._loops import loops
from granian.http import HTTP1Settings
from granian.wsgi import Response, ResponseIterWrap

log = logging.getLogger("receiver")

# Python threads that run the app.  The app never waits on I/O, so one
# thread keeps the interpreter busy; more only add GIL hand-offs
# (README, "Design notes").
DEFAULT_THREADS = 1

BACKLOG = 1024
# How long the app must have been idle after a stop before the caller may
# close the storage: requests granian accepted before the stop are handed to
# Python within microseconds, so this is generous.
_QUIET_SECONDS = 0.2


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so errors surface before we announce a URL."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class GranianRunner:
    """One granian worker in this process, on an already bound socket, stoppable by signal."""

    def __init__(self, app, sock: socket.socket, *, threads: int = DEFAULT_THREADS,
                 drain_seconds: float = 10.0):
        self._app = app
        self._sock = sock
        self._threads = threads
        self._drain_seconds = drain_seconds
        self.url = base_url(sock)
        self._stopped = threading.Event()
        self._signal = WorkerSignal()
        self._signal.add_cb(self._stopped.set)
        # Requests inside the app, and when the last one left.
        self._in_app = 0
        self._last_exit = time.monotonic()
        self._counter_lock = threading.Lock()
        host, port = sock.getsockname()[:2]
        # The parts of the WSGI environ that never change.  Unlike granian's
        # own wrapper this does not copy os.environ into every request: the
        # process environment may hold RECEIVER_TOKEN.
        self._base_environ = {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": "granian",
            "wsgi.errors": sys.stderr,
            "wsgi.input_terminated": True,
            "wsgi.multiprocess": False,
            "wsgi.multithread": threads > 1,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    # -- the WSGI bridge ---------------------------------------------------------

    def _handle(self, proto, scope: dict) -> int:
        environ = self._base_environ | scope
        response = Response()
        with self._counter_lock:
            self._in_app += 1
        try:
            body = self._app(environ, response)
            if isinstance(body, list):
                proto.response_bytes(response.status, response.headers, b"".join(body))
            else:
                proto.response_iter(response.status, response.headers, ResponseIterWrap(body))
        finally:
            with self._counter_lock:
                self._in_app -= 1
                self._last_exit = time.monotonic()
        return response.status

    # -- lifecycle -----------------------------------------------------------------

    def request_stop(self, *_args) -> None:
        if self._stopped.is_set():
            # A second signal: stop waiting for requests in flight.
            self._drain_seconds = 0
        self._signal.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def serve(self) -> None:
        """Serve until ``request_stop``; then let requests in flight finish and return."""
        holder = SocketHolder(self._sock.fileno(), False, BACKLOG)
        worker = WSGIWorker(
            worker_id=1,
            sock=(None, holder),
            ipc=None,
            threads=1,  # tokio runtime threads: HTTP parsing and socket I/O
            blocking_threads=512,
            py_threads=self._threads,
            py_threads_idle_timeout=30,
            backpressure=BACKLOG,
            http_mode="1",
            http1_opts=HTTP1Settings(),
            http2_opts=None,
            static_files=None,
            ssl_enabled=False,
            ssl_cert=None,
            ssl_key=None,
            ssl_key_password=None,
            ssl_protocol_min="1.3",
            ssl_ca=None,
            ssl_crl=[],
            ssl_client_verify=False,
            metrics=(None, None),
        )
        loop = loops.get("auto")
        scheduler = _new_cbscheduler(loop, self._handle, impl_asyncio=False)
        worker.serve_mtr(scheduler, loop, self._signal)
        # Signals reach Python only in the main thread, between bytecodes: a
        # timed wait keeps it responsive.
        while not self._stopped.wait(0.5):
            pass
        log.info("stopping: no new connections, finishing requests in flight")
        deadline = time.monotonic() + self._drain_seconds
        while time.monotonic() < deadline:
            with self._counter_lock:
                idle = self._in_app == 0 and time.monotonic() - self._last_exit >= _QUIET_SECONDS
            if idle:
                break
            time.sleep(0.02)
        else:
            if self._in_app:
                log.warning("stopping with %d request(s) still in the app", self._in_app)
