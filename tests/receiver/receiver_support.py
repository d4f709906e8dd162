"""Running the receiver the way users do (``python -m receiver``), and payloads.

Each receiver is a subprocess on a free 127.0.0.1 port (``--port 0``; the
URL is read from the line it prints) with its own database file, and is
only handed to a test once ``GET /health`` answers.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
_URL = re.compile(r"Listening on (http://\S+)")


def receiver_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEIVER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(overrides)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 20):
    """Run ``python -m receiver ARGS`` to completion (for commands that must fail fast)."""
    return subprocess.run(
        [sys.executable, "-m", "receiver", *args],
        cwd=REPO_ROOT,
        env=env or receiver_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Receiver:
    """A running ``python -m receiver``; restartable on the same database."""

    def __init__(self, db: Path, *extra_args: str, env: dict[str, str] | None = None):
        self.db = db
        self.extra_args = list(extra_args)
        self.env = env or receiver_env()
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.stderr_lines: list[str] = []
        self.session = requests.Session()

    def start(self) -> Receiver:
        self.stderr_lines = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "receiver", "--host", "127.0.0.1", "--port", "0",
             "--db", str(self.db), *self.extra_args],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._collect_stderr, args=(self.process,), daemon=True).start()
        line = self.process.stdout.readline()
        match = _URL.search(line)
        if not match:
            self.process.wait(timeout=10)
            raise RuntimeError(f"receiver did not start: {line!r} {self.stderr}")
        self.url = match.group(1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"receiver at {self.url} never became healthy")
            time.sleep(0.02)

    def _collect_stderr(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.stderr_lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, as a service manager would; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.process.stdout.close()
        return code

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdout.close()

    def restart(self) -> Receiver:
        self.session.close()
        self.session = requests.Session()
        return self.start()

    # -- HTTP helpers ------------------------------------------------------

    def post(self, path: str, payload=None, **kwargs) -> requests.Response:
        return self.session.post(f"{self.url}{path}", json=payload, timeout=10, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.url}{path}", timeout=10, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.session.delete(f"{self.url}{path}", timeout=10, **kwargs)


def enriched_payload(server_id: str, **overrides) -> dict:
    """What the addon's _build_server_payload sends, plus heartbeat fields."""
    payload = {
        "server_id": server_id,
        "hostname": "odoo-17-0-12345.dev.odoo.com",
        "ip_addresses": {"primary": "10.1.2.3", "all": ["10.1.2.3", "172.17.0.2"]},
        "port": 8069,
        "transport": "http/sse",
        "version": "1.0.0",
        "odoo_version": "17.0",
        "database": "mcp17",
        "capabilities": ["create_record", "search_read", "write_record"],
        "odoo_stage": "staging",
        "mcp_url": "https://mcp17.odoo.com/mcp/v1",
        "database_uuid": "5c7f3a2e-8d51-11ee-b9d1-0242ac120002",
        "status": "healthy",
        "timestamp": "2025-06-01T12:00:00Z",
        "uptime_seconds": 120.5,
    }
    payload.update(overrides)
    return payload


def registration_payload(server_id: str, **overrides) -> dict:
    payload = enriched_payload(server_id, started_at="2025-06-01T11:58:00Z")
    for name in ("status", "timestamp", "uptime_seconds"):
        payload.pop(name)
    payload.update(overrides)
    return payload


def slim_heartbeat(server_id: str) -> dict:
    return {"server_id": server_id, "status": "healthy", "timestamp": "2025-06-01T12:01:00Z"}
