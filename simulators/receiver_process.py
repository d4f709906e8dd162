"""The project's receiver (`python -m receiver`) as a subprocess: for the demo and the tests.

Only the demo reads from the receiver (GET /servers, to show the fleet at the end); the rebuild
command never talks to it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import paths

LISTENING = "Listening on "


class ReceiverError(RuntimeError):
    pass


class ReceiverProcess:
    def __init__(self, db: str, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 log_path: str | None = None):
        self.db = str(db)
        self.host = host
        self.port = port
        self.token = token
        self.log_path = log_path or (os.path.splitext(self.db)[0] + "-receiver.log")
        self.url: str | None = None
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 30.0) -> str:
        """Start it (again, on the same port once it has had one); returns its base URL."""
        if self.running:
            return self.url
        extra = {"RECEIVER_LOG_LEVEL": os.environ.get("RECEIVER_LOG_LEVEL", "info")}
        if self.token:
            extra["RECEIVER_TOKEN"] = self.token  # not on the command line: visible to other users
        env = paths.child_environment(extra)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "receiver", "--host", self.host, "--port", str(self.port),
             "--db", self.db],
            env=env, cwd=str(paths.REPO), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._log, start_new_session=True)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._process.stdout], [], [], max(0.0, remaining))
            if not ready:
                self.stop()
                raise ReceiverError(f"the receiver did not start within {timeout} s; see {self.log_path}")
            chunk = os.read(self._process.stdout.fileno(), 1)
            if not chunk:
                self._process.wait(5)
                code = self._process.returncode
                self._close()
                raise ReceiverError(f"the receiver exited with status {code}: "
                                    f"{_tail(self.log_path)}")
            line += chunk
        text = line.decode().strip()
        if not text.startswith(LISTENING):
            self.stop()
            raise ReceiverError(f"unexpected first line from the receiver: {text!r}")
        self.url = text[len(LISTENING):]
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        return self.url

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._close()

    def _close(self) -> None:
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        if self._log is not None:
            self._log.close()
        self._process = None
        self._log = None

    # -- reading (demo and tests only)
    def get(self, path: str, timeout: float = 10.0):
        return get_json(self.url + path, self.token, timeout)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def get_json(url: str, token: str | None = None, timeout: float = 10.0):
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own URL
        return json.loads(response.read().decode())


def _tail(path: str, lines: int = 5) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
