"""The command line: flags and environment, clear failures, clean stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import requests
from receiver_support import REPO_ROOT, receiver_env, registration_payload, run_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--port", "http"], "invalid port 'http'"),
        (["--port", "70000"], "must be 0-65535"),
        (["--port"], "expected one argument"),
        (["--threads", "0"], "must be at least 1"),
        (["--token", ""], "must not be empty"),
        (["--heartbeat-interval", "-5"], "positive"),
        (["--sync-interval", "0"], "positive"),
        (["--checkpoint-interval", "soon"], "not a number"),
        (["--log-level", "loud"], "invalid log level"),
    ],
)
def test_bad_flags_fail_with_one_line(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [("RECEIVER_PORT", "eighty", "RECEIVER_PORT"), ("RECEIVER_THREADS", "-1", "RECEIVER_THREADS")],
)
def test_bad_environment_values_fail_with_one_line(variable, value, message):
    result = run_cli(env=receiver_env(**{variable: value}))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_unwritable_db_paths_fail_clearly(tmp_path):
    cases = {
        str(tmp_path / "missing-dir" / "fleet.db"): "does not exist",
        str(tmp_path): "is a directory",
        "/proc/fleet.db": "",
    }
    not_a_db = tmp_path / "garbage.db"
    not_a_db.write_bytes(b"this is not a database" * 100)
    cases[str(not_a_db)] = "not a database"
    for db, message in cases.items():
        result = run_cli("--port", "0", "--db", db)
        assert result.returncode == 2, (db, result.stderr)
        assert result.stderr.startswith("receiver: error: "), result.stderr
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_port_in_use_fails_clearly(start_receiver, tmp_path):
    running = start_receiver()
    port = running.url.rsplit(":", 1)[1]
    result = run_cli("--port", port, "--db", str(tmp_path / "other.db"))
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_configures_everything(start_receiver, tmp_path, server_id):
    db = tmp_path / "from-env.db"
    rx = start_receiver(env=receiver_env(RECEIVER_DB=str(db), RECEIVER_HEARTBEAT_INTERVAL="1"),
                        db=tmp_path / "ignored-because-flag-wins.db")
    # --db on the command line wins over RECEIVER_DB.
    assert not db.exists()
    rx.post("/register", registration_payload(server_id))
    time.sleep(2.6)  # > 2 intervals + grace of a 1 s interval
    assert rx.get(f"/servers/{server_id}").json()["status"] == "late"


def test_prints_its_url_and_stops_cleanly_on_sigterm(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "receiver", "--port", "0", "--db", str(tmp_path / "f.db")],
        cwd=REPO_ROOT, env=receiver_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Listening on http://127.0.0.1:")
        url = line.split()[-1]
        assert requests.get(f"{url}/health", timeout=5).json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()


def test_sigterm_lets_requests_in_flight_finish(start_receiver, server_id):
    from concurrent.futures import ThreadPoolExecutor

    rx = start_receiver()
    rx.post("/register", registration_payload(server_id))

    def beat(_):
        try:
            response = requests.post(f"{rx.url}/heartbeat", json={"server_id": server_id}, timeout=10)
        except requests.ConnectionError:
            return None  # sent after the listener closed: refused, never acknowledged
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(beat, n) for n in range(400)]
        time.sleep(0.05)
        assert rx.stop() == 0
        statuses = [f.result() for f in futures]
    acknowledged = statuses.count(200)
    assert set(statuses) <= {200, None}
    rx.restart()
    assert rx.get(f"/servers/{server_id}").json()["heartbeat_count"] == acknowledged


def test_help_lists_every_variable():
    result = run_cli("--help")
    assert result.returncode == 0
    for variable in ("RECEIVER_HOST", "RECEIVER_PORT", "RECEIVER_DB", "RECEIVER_TOKEN",
                     "RECEIVER_THREADS", "RECEIVER_HEARTBEAT_INTERVAL", "RECEIVER_LOG_LEVEL",
                     "RECEIVER_CHECKPOINT_INTERVAL"):
        assert variable in result.stdout


def test_runner_shortens_the_gil_switch_interval_while_serving():
    import threading

    from receiver.server import GIL_SWITCH_INTERVAL_S, WaitressRunner, bind_socket

    seen = []

    def app(environ, start_response):
        seen.append(sys.getswitchinterval())
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    before = sys.getswitchinterval()
    runner = WaitressRunner(app, bind_socket("127.0.0.1", 0), threads=1)
    serving = threading.Thread(target=runner.serve)
    serving.start()
    try:
        assert requests.get(runner.url, timeout=5).ok
    finally:
        runner.request_stop()
        serving.join(timeout=10)
    assert seen == [pytest.approx(GIL_SWITCH_INTERVAL_S)] and GIL_SWITCH_INTERVAL_S < before
    assert sys.getswitchinterval() == before


def test_runner_sends_a_small_answer_in_one_call_from_the_io_thread(monkeypatch):
    """waitress's default made the request thread send headers and body in two
    calls under the channel's lock, while the I/O thread spun on it (a GIL
    convoy: 10-20x fewer requests per second on this project's 2-core VM)."""
    import threading

    from receiver import server

    sends = []
    original_send = server._JSONErrorChannel.send

    def recording_send(self, data, *args, **kwargs):
        sends.append((threading.current_thread().name, len(data)))
        return original_send(self, data, *args, **kwargs)

    monkeypatch.setattr(server._JSONErrorChannel, "send", recording_send)
    big = b"x" * (3 * server.SEND_BYTES)

    def app(environ, start_response):
        body = big if environ["PATH_INFO"] == "/big" else b'{"status":"ok"}'
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    runner = server.WaitressRunner(app, server.bind_socket("127.0.0.1", 0), threads=1)
    serving = threading.Thread(target=runner.serve, name="io-thread")
    serving.start()
    try:
        with requests.Session() as session:
            small = session.get(runner.url, timeout=5)
            small_sends = list(sends)
            large = session.get(f"{runner.url}/big", timeout=5)
    finally:
        runner.request_stop()
        serving.join(timeout=10)
    assert small.content == b'{"status":"ok"}'
    assert len(small_sends) == 1 and small_sends[0][0] == "io-thread"
    assert small_sends[0][1] > len(small.content)  # status line, headers and body together
    assert large.content == big
