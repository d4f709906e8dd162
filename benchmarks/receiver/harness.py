"""Starting servers, driving them with wrk, measuring their CPU time."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

import requests

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
LUA_SCRIPT = HERE / "heartbeat.lua"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_cpu_seconds(pgid: int) -> float | None:
    """utime + stime of every process in a process group (Linux /proc), None elsewhere."""
    total, found = 0.0, False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / ticks
            found = True
    return total if found else None


def start_server(command: list[str], url: str, log, cwd: Path = REPO_ROOT) -> subprocess.Popen:
    """Start a server in its own process group and wait for GET /health."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited early with status {process.returncode}")
        try:
            if requests.get(f"{url}/health", timeout=1).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{url} did not become healthy")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Measured(NamedTuple):
    rps: float
    cpu_us_per_request: float  # NaN where /proc is missing
    p99_ms: float


def measured_run(process: subprocess.Popen, url: str, *, seconds: int, **load) -> Measured:
    """One wrk run against a started server, with the server's CPU time."""
    before = group_cpu_seconds(process.pid)
    result = run_wrk(url, seconds=seconds, **load)
    after = group_cpu_seconds(process.pid)
    cpu = float("nan")
    if before is not None and after is not None and result["requests"]:
        cpu = (after - before) / result["requests"] * 1e6
    return Measured(result["requests"] / result["duration_us"] * 1e6, cpu, result["p99_us"] / 1000)


def run_wrk(url: str, *, seconds: int, connections: int, threads: int, servers: int) -> dict:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
        "-s", str(LUA_SCRIPT), url, "--", str(servers), str(threads),
    ]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk exited with status {completed.returncode}:\n"
                           f"{completed.stdout}\n{completed.stderr}")
    for line in completed.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(f"no result from wrk:\n{completed.stdout}\n{completed.stderr}")
