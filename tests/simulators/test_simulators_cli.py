"""`python -m simulators` as a user runs it: rebuild against an independent recording endpoint,
bad flags, the real-Odoo guard, and the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest
from simulators_support import HEARTBEAT_FIELDS, REGISTER_FIELDS, check_payload

from simulators import paths


def run_cli(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "simulators", *args], cwd=str(paths.REPO),
                          env=paths.child_environment(env), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("health_requests", [20, 0])
def test_rebuild_against_a_recording_endpoint(recorder, health_requests):
    workers, rebuilds, minutes = 4, 3, 3
    # A path prefix: any receiver URL works, the addon appends /register and /heartbeat.
    url = recorder.url + "/fleet"
    done = run_cli("rebuild", "--receiver", url, "--workers", str(workers), "--rebuilds", str(rebuilds),
                   "--minutes", str(minutes), "--health-requests", str(health_requests),
                   "--seed", "42", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)

    received = recorder.requests
    # Nothing else sent: only the addon's POSTs to URL/register and URL/heartbeat.
    assert {(r["method"], r["path"]) for r in received} == {
        ("POST", "/fleet/register"), ("POST", "/fleet/heartbeat")}
    by_host = defaultdict(list)
    for request in received:
        by_host[request["body"]["hostname"]].append(request)
    assert len(by_host) == rebuilds + 1  # one hostname per generation
    for hostname, requests in by_host.items():
        kinds = [r["path"].rsplit("/", 1)[1] for r in requests]
        assert kinds.count("register") == 1, (hostname, kinds)
        assert kinds[0] == "register", (hostname, kinds)  # before that hostname's first heartbeat
        assert kinds.count("heartbeat") == minutes
        for request in requests:
            fields = REGISTER_FIELDS if request["path"].endswith("/register") else HEARTBEAT_FIELDS
            check_payload(request["body"], fields, hostname=hostname)
            assert request["headers"].get("Content-Type") == "application/json"
            assert "Authorization" not in request["headers"]
    # uptime grows by 60 per heartbeat within a generation
    for requests in by_host.values():
        uptimes = [r["body"]["uptime_seconds"] for r in requests if r["path"].endswith("/heartbeat")]
        assert [b - a for a, b in zip(uptimes, uptimes[1:], strict=False)] == [60.0] * (minutes - 1)

    summary = report["summary"]
    assert summary["registrations_per_generation"] == [1] * (rebuilds + 1)
    assert summary["exactly_one_registration"] is True
    assert summary["heartbeats_ok"] == (rebuilds + 1) * minutes
    assert summary["heartbeats_failed"] == summary["heartbeats_missing"] == 0
    assert summary["problems"] == [] and summary["run_broke"] is False
    triggers = [g["registration_triggers"] for g in summary["generations"]]
    expected = "health" if health_requests else "cron"
    assert triggers == [["install"]] + [[expected]] * rebuilds
    assert summary["told_after_sim_seconds"][expected] == [0.0 if health_requests else 60.0] * rebuilds
    assert len(report["timeline"]) > 0
    assert all({"sim", "real_offset", "server", "gen", "who", "what"} <= set(i) for i in report["timeline"])


def test_rebuild_sends_the_token_and_prints_a_readable_timeline(recorder):
    done = run_cli("rebuild", "--receiver", recorder.url, "--workers", "1", "--rebuilds", "1",
                   "--minutes", "1", "--health-requests", "2", "--stage", "dev", "--seed", "1",
                   "--token", "s3cret-token")
    assert done.returncode == 0, done.stderr[-3000:]
    assert all(r["headers"].get("Authorization") == "Bearer s3cret-token" for r in recorder.requests)
    assert all(r["body"]["odoo_stage"] == "dev" for r in recorder.requests)
    assert "s3cret-token" not in done.stdout
    assert "Timeline" in done.stdout and "Summary" in done.stdout
    assert "REBUILD" in done.stdout and "POST /register -> 201" in done.stdout
    assert "exactly one each" in done.stdout


def test_rebuild_is_reproducible_with_a_seed(recorder):
    hostnames = []
    for _ in range(2):
        recorder.requests.clear()
        done = run_cli("rebuild", "--receiver", recorder.url, "--workers", "1", "--rebuilds", "1",
                       "--minutes", "0", "--health-requests", "1", "--seed", "9",
                       "--start", "2026-03-01T12:00:00Z", "--json")
        assert done.returncode == 0, done.stderr[-3000:]
        hostnames.append([(r["body"]["hostname"], r["body"]["ip_addresses"], r["body"]["started_at"])
                          for r in recorder.requests])
    assert hostnames[0] == hostnames[1]
    assert hostnames[0][0][2] == "2026-03-01T12:00:00Z"


def test_receiver_down_is_data_not_a_broken_run():
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_cli("rebuild", "--receiver", f"http://127.0.0.1:{port}", "--workers", "2",
                   "--rebuilds", "1", "--minutes", "1", "--health-requests", "2", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)["summary"]
    assert summary["registrations_per_generation"] == [0, 0]
    assert summary["heartbeats_failed"] == 2
    assert summary["problems"] == []


@pytest.mark.parametrize("args", [
    [],
    ["rebuild"],
    ["rebuild", "--receiver", "not-a-url"],
    ["rebuild", "--receiver", "ftp://127.0.0.1/"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--workers", "0"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--workers", "four"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--rebuilds", "-1"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--minutes", "x"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--health-requests", "-3"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--stage", "prod"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--start", "yesterday"],
    ["rebuild", "--receiver", "http://127.0.0.1:9", "--bogus"],
    ["demo", "--port", "70000"],
    ["nope"],
])
def test_bad_flags_exit_2_with_argparse_message(args):
    done = run_cli(*args, timeout=30)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "usage:" in done.stderr and "error:" in done.stderr
    assert done.stdout == ""


def test_refuses_to_run_beside_a_real_odoo(tmp_path, recorder):
    fake = tmp_path / "site" / "odoo"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise SystemExit('a real Odoo must not be imported')\n")
    pythonpath = os.pathsep.join([str(paths.SRC), str(paths.REPO), str(tmp_path / "site")])
    done = subprocess.run(
        [sys.executable, "-m", "simulators", "rebuild", "--receiver", recorder.url],
        cwd=str(paths.REPO), env={**os.environ, "PYTHONPATH": pythonpath},
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "different package named 'odoo'" in done.stderr and str(fake) in done.stderr
    assert recorder.requests == []


def test_unreachable_postgresql_breaks_the_run(recorder):
    done = run_cli("rebuild", "--receiver", recorder.url, "--db-dsn", "postgresql://postgres@127.0.0.1:1",
                   timeout=30)
    assert done.returncode == 1
    assert "PostgreSQL unreachable" in done.stderr
    assert recorder.requests == []


def test_demo_runs_a_fleet_and_shows_it(tmp_path):
    db = tmp_path / "var" / "fleet.db"
    done = run_cli("demo", "--port", "0", "--db", str(db), "--seed", "3", timeout=180)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "The fleet as the receiver shows it" in out
    assert "Look at it: http://127.0.0.1:" in out and "/servers" in out
    assert "exactly one each" in out
    assert db.exists()
    for stage in ("production", "staging", "dev"):
        assert f" {stage} " in out
