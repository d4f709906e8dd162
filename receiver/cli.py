"""Command line: ``python -m receiver [--host H] [--port P] [--db PATH] [--token T]``.

Every flag can also come from an environment variable (the flag wins).
Configuration mistakes end with one line on stderr and exit status 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from receiver import __version__
from receiver.app import create_app
from receiver.errors import StorageError
from receiver.server import DEFAULT_THREADS, WaitressRunner, bind_socket
from receiver.status import StatusRule
from receiver.storage import open_storage
from receiver.storage.sqlite import CHECKPOINT_INTERVAL_S, SYNC_INTERVAL_S

EXIT_USAGE = 2

_LOG_LEVELS = ("debug", "info", "warning", "error")


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"receiver: error: {message} (see python -m receiver --help)\n")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}: not an integer") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}: must be 0-65535")
    return port


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: not an integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: must be at least 1")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: not a number") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: must be a positive number")
    return number


def _token(value: str) -> str:
    if not value:
        raise argparse.ArgumentTypeError("the token must not be empty")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise argparse.ArgumentTypeError("the token must not contain whitespace")
    return value


def _log_level(value: str) -> str:
    if value.lower() not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"invalid log level {value!r}: one of {', '.join(_LOG_LEVELS)}")
    return value.lower()


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m receiver",
        description="Fleet receiver: Odoo servers with the odoo-dev-mcp addon "
        "register and heartbeat here; GET /servers lists them.",
    )
    parser.add_argument(
        "--host", help="interface to bind (env RECEIVER_HOST, default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=_port, help="TCP port, 0 picks a free one (env RECEIVER_PORT, default 8765)"
    )
    parser.add_argument(
        "--db", help="SQLite database file, created if missing (env RECEIVER_DB, default fleet.db)"
    )
    parser.add_argument(
        "--token",
        type=_token,
        help="require 'Authorization: Bearer TOKEN' on every route but /health "
        "(env RECEIVER_TOKEN; prefer the variable, command lines are visible to other users)",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        help=f"request threads (env RECEIVER_THREADS, default {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=_positive_float,
        metavar="SECONDS",
        help="interval the addons heartbeat at, for the online/late/offline rule "
        "(env RECEIVER_HEARTBEAT_INTERVAL, default 60)",
    )
    parser.add_argument(
        "--checkpoint-interval",
        type=_positive_float,
        metavar="SECONDS",
        help="how often the servers table in SQLite is brought up to date from the ack log "
        "(env RECEIVER_CHECKPOINT_INTERVAL, default 5)",
    )
    parser.add_argument(
        "--sync-interval",
        type=_positive_float,
        metavar="SECONDS",
        help="how often the ack log is flushed to disk: the most an operating-system crash "
        "can lose (env RECEIVER_SYNC_INTERVAL, default 0.2)",
    )
    parser.add_argument(
        "--log-level",
        type=_log_level,
        help="debug, info, warning or error (env RECEIVER_LOG_LEVEL, default info)",
    )
    parser.add_argument("--version", action="version", version=f"receiver {__version__}")
    return parser


# flag dest -> (environment variable, converter, default)
_SETTINGS: dict[str, tuple[str, Callable[[str], Any], Any]] = {
    "host": ("RECEIVER_HOST", str, "127.0.0.1"),
    "port": ("RECEIVER_PORT", _port, 8765),
    "db": ("RECEIVER_DB", str, "fleet.db"),
    "token": ("RECEIVER_TOKEN", _token, None),
    "threads": ("RECEIVER_THREADS", _positive_int, DEFAULT_THREADS),
    "heartbeat_interval": ("RECEIVER_HEARTBEAT_INTERVAL", _positive_float, 60.0),
    "checkpoint_interval": ("RECEIVER_CHECKPOINT_INTERVAL", _positive_float, CHECKPOINT_INTERVAL_S),
    "sync_interval": ("RECEIVER_SYNC_INTERVAL", _positive_float, SYNC_INTERVAL_S),
    "log_level": ("RECEIVER_LOG_LEVEL", _log_level, "info"),
}


def parse_args(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> argparse.Namespace:
    environ = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    for dest, (variable, convert, default) in _SETTINGS.items():
        if getattr(args, dest) is not None:
            continue
        raw = environ.get(variable, "")
        if raw == "":
            # An empty variable (common in container env files) means unset.
            setattr(args, dest, default)
            continue
        try:
            setattr(args, dest, convert(raw))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"environment variable {variable}: {exc}")
    if not args.host:
        parser.error("argument --host: must not be empty")
    if not args.db:
        parser.error("argument --db: must not be empty")
    return args


def _fail(message: str) -> int:
    print(f"receiver: error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def _check_db_path(path: str) -> str | None:
    """A precise reason the --db path cannot work, before SQLite's vaguer one."""
    if path.startswith(("postgres://", "postgresql://")):
        return None
    if os.path.isdir(path):
        return f"--db {path!r} is a directory, not a database file"
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"--db {path!r}: directory {directory!r} does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"--db {path!r}: directory {directory!r} is not writable"
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        return f"--db {path!r} is not readable and writable"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    problem = _check_db_path(args.db)
    if problem:
        return _fail(problem)
    # Bind before opening the database: a busy port then leaves no files behind.
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    try:
        storage = open_storage(args.db, checkpoint_interval=args.checkpoint_interval,
                               sync_interval=args.sync_interval)
    except StorageError as exc:
        sock.close()
        return _fail(str(exc))
    try:
        app = create_app(
            storage,
            token=args.token,
            rule=StatusRule.for_interval(args.heartbeat_interval),
        )
        runner = WaitressRunner(app, sock, threads=args.threads)
        runner.install_signal_handlers()
        # The token itself is never printed or logged.
        auth = "bearer token required" if args.token else "no authentication"
        logging.getLogger("receiver").info(
            "receiver %s serving %s (db %s, %s, %d threads)",
            __version__, runner.url, os.path.abspath(args.db), auth, args.threads,
        )
        print(f"Listening on {runner.url}", flush=True)
        runner.serve()
    finally:
        storage.close()
    logging.getLogger("receiver").info("stopped")
    return 0
