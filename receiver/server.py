"""Serving a WSGI app with waitress, in this process, and stopping it cleanly.

Why waitress (receiver/README.md, "Why waitress", has the measurements):
of the production WSGI servers measured with the bare Bottle app it is the
fastest pure-Python one (gunicorn and cheroot stay at or below 3x the seed's
Flask server even bare), and the receiver's own work is a smaller share of
each request on it than on granian (the issue's "80 % of a bare Bottle app
served the same way" is not met reliably even so: 69 % on one VM, 77-82 %
per round on the latest, README "Speed").
granian is several times faster in absolute terms, but then the receiver's
Python is most of the cost and no durable receiver gets near 80 % of it.
waitress is pure Python, runs on every platform, and runs in one process:
``kill -9`` of the PID an operator started leaves no worker behind holding
the port or the database.  This module drives waitress's event loop and
subclasses its error task, both internals: pyproject.toml keeps waitress
below 4, and tests/receiver start the real CLI.

Two settings matter for speed: ``SEND_BYTES`` (waitress's default makes
every answer a GIL convoy between the request thread and the I/O thread),
and, while serving, a GIL switch interval of ``GIL_SWITCH_INTERVAL_S``
instead of CPython's 5 ms: waitress hands every request from its I/O thread
to a request thread and back.

Two things waitress does not do on its own, and this module adds:

* its own error responses (413, malformed requests, ...) are text/plain; a
  channel subclass makes them JSON like the rest of the API;
* it has no graceful stop.  On SIGTERM/SIGINT the loop here stops accepting,
  lets requests already received finish and flush their responses (bounded
  by ``drain_seconds``), closes idle keep-alive connections, and returns, so
  the caller closes the storage only after the last answer.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
import time
import warnings

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from receiver.validation import MAX_BODY_BYTES

log = logging.getLogger("receiver")

# Request threads.  waitress parses HTTP in its I/O thread and runs the app
# in these; the app never waits on I/O, so more threads add no throughput
# (1, 2 and 4 measured the same ratio to a bare app, README "Speed"), but
# with several a long GET /servers does not hold every heartbeat behind it.
DEFAULT_THREADS = 4

BACKLOG = 1024

# Measured with python -m benchmarks.receiver on the 2-core target (README,
# "Speed"): before SEND_BYTES below, 5 ms (CPython's default) gave 8-11
# voluntary context switches per request and a p99 near 30 ms, 0.5 ms about
# 7 and 20-50 % more requests per second; since, with one request thread,
# 0.5 ms and 5 ms measure the same.  0.2 ms and 1 ms were no better.
GIL_SWITCH_INTERVAL_S = 0.0005

# A response shorter than this is handed whole to waitress's I/O thread,
# which sends it in one call once the request thread is done.  waitress 3's
# default (1 byte) makes the request thread send the status line and headers,
# then the body, itself, each under the channel's output lock, while the I/O
# thread spins on a channel that is writable but locked: every answer became
# a GIL convoy between the two (bare waitress 200-470 -> 4,400-8,200 req/s on
# this session's VM, README "The one waitress setting that matters").  Larger
# bodies (a big GET /servers) are still flushed by the request thread in
# chunks of this size.
SEND_BYTES = 16 * 1024

_ERROR_CODES = {
    400: "bad_request",
    413: "payload_too_large",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
}


class _JSONErrorTask(ErrorTask):
    """waitress's own error responses, as JSON."""

    def execute(self):
        error = self.request.error
        if error.code == 413:
            message = f"request body exceeds {MAX_BODY_BYTES} bytes"
        elif error.code >= 500:
            message = "internal server error"
        else:
            message = f"{error.reason}: {error.body}"
        body = json.dumps(
            {"error": _ERROR_CODES.get(error.code, "error"), "message": message}
        ).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _JSONErrorChannel(HTTPChannel):
    error_task_class = _JSONErrorTask


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so errors surface before we announce a URL."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class WaitressRunner:
    """A waitress server on an already bound socket, stoppable by signal."""

    def __init__(self, app, sock: socket.socket, *, threads: int = DEFAULT_THREADS,
                 drain_seconds: float = 10.0, switch_interval: float = GIL_SWITCH_INTERVAL_S):
        self._stop_requested = False
        self._switch_interval = switch_interval
        self._drain_seconds = drain_seconds
        self.url = base_url(sock)
        with warnings.catch_warnings():
            # send_bytes is deprecated in waitress 3 but still honoured; pyproject
            # keeps waitress below 4 and a test checks that it takes effect.
            warnings.filterwarnings("ignore", "send_bytes", DeprecationWarning)
            self._server = create_server(
                app,
                sockets=[sock],
                threads=threads,
                ident="receiver",
                # waitress rejects when size >= limit; we allow exactly MAX_BODY_BYTES.
                max_request_body_size=MAX_BODY_BYTES + 1,
                max_request_header_size=32 * 1024,
                connection_limit=1000,
                backlog=BACKLOG,
                asyncore_use_poll=True,
                expose_tracebacks=False,
                send_bytes=SEND_BYTES,
            )
        self._server.channel_class = _JSONErrorChannel
        # waitress warns "Task queue depth is N" whenever more requests than
        # idle threads are queued: normal with keep-alive clients under load,
        # and a log line per request exactly when the receiver is busiest.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    def request_stop(self, *_args) -> None:
        if self._stop_requested:
            # A second signal: stop waiting for requests in flight.
            self._drain_seconds = 0
        self._stop_requested = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def serve(self) -> None:
        """Serve until ``request_stop``; then drain and return."""
        previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(self._switch_interval)
        try:
            self._serve()
        finally:
            sys.setswitchinterval(previous_interval)

    def _serve(self) -> None:
        server = self._server
        socket_map = server._map
        while not self._stop_requested:
            # A short poll timeout bounds how long a stop signal waits.
            wasyncore.loop(timeout=0.2, map=socket_map, use_poll=True, count=1)
        log.info("stopping: no new connections, finishing requests in flight")
        # Close only the listening socket; the trigger stays for the drain.
        wasyncore.dispatcher.close(server)
        deadline = time.monotonic() + self._drain_seconds
        while True:
            for channel in list(server.active_channels.values()):
                if not channel.requests and not channel.total_outbufs_len:
                    channel.handle_close()
            if not server.active_channels or time.monotonic() >= deadline:
                break
            wasyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)
        if server.active_channels:
            log.warning("closing %d connection(s) with requests still running",
                        len(server.active_channels))
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=self._drain_seconds)
        wasyncore.close_all(socket_map)
