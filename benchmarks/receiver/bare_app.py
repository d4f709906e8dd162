"""Variant (a): a Bottle app that only answers, served exactly like the receiver.

By default: the same WaitressRunner (same settings, socket bound the same
way), same thread count, routes without Bottle plugins like the receiver's;
the route reads nothing and stores nothing.  It is the ceiling for "Bottle on
this server on this machine".

``--server granian|gunicorn|cheroot`` serves the same app with those servers
instead, for ``python -m benchmarks.receiver.servers`` (the WSGI server
comparison).  ``app`` is the module-level app for servers that import it.
"""

from __future__ import annotations

import argparse
import sys

import bottle

from receiver.server import DEFAULT_THREADS, WaitressRunner, bind_socket


def create_bare_app() -> bottle.Bottle:
    app = bottle.Bottle()

    @app.post("/heartbeat", skip=True)
    def heartbeat():
        # The header set the way the receiver's heartbeat route sets it.
        bottle.response.set_header("Content-Type", "application/json")
        return b'{"status":"ok"}'

    @app.get("/health", skip=True)
    def health():
        bottle.response.content_type = "application/json"
        return b'{"status":"ok"}'

    return app


app = create_bare_app()


def _serve_granian(host: str, port: int, threads: int) -> None:
    import os

    # granian's own CLI, one worker process: its Rust HTTP layer, `threads` Python threads.
    os.execvp(sys.executable, [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", str(port),
        "--workers", "1", "--blocking-threads", str(threads), "--no-ws", "--log-level", "warning",
        "benchmarks.receiver.bare_app:app",
    ])


def _serve_gunicorn(app, host: str, port: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)

        def load(self):
            return app

    Application().run()


def _serve_cheroot(app, host: str, port: int, threads: int) -> None:
    import signal

    from cheroot.wsgi import Server

    server = Server((host, port), app, numthreads=threads)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    server.safe_start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--server", choices=["waitress", "granian", "gunicorn", "cheroot"],
                        default="waitress")
    args = parser.parse_args()
    if args.server == "gunicorn":
        _serve_gunicorn(app, args.host, args.port, args.threads)
    elif args.server == "cheroot":
        _serve_cheroot(app, args.host, args.port, args.threads)
    elif args.server == "granian":
        _serve_granian(args.host, args.port, args.threads)
    else:
        runner = WaitressRunner(app, bind_socket(args.host, args.port), threads=args.threads)
        runner.install_signal_handlers()
        print(f"Listening on {runner.url}", flush=True)
        runner.serve()


if __name__ == "__main__":
    main()
