"""The building blocks: the shared frozen clock (threads included), the container environment,
the event log, the real-Odoo guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from simulators import paths
from simulators.clock import SharedClock
from simulators.events import EventReader, EventWriter


def run_python(code: str) -> dict:
    """Run `code` in a fresh interpreter (freezing or patching socket must not touch pytest)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=str(paths.REPO),
                          env=paths.child_environment(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_shared_clock_moves_forward_only_and_only_for_its_owner(tmp_path):
    owner = SharedClock(str(tmp_path / "clock"), create_at=1000.0)
    reader = SharedClock(str(tmp_path / "clock"))
    owner.advance(60)
    assert reader.now() == 1060.0
    with pytest.raises(ValueError):
        owner.set(1000.0)
    with pytest.raises(PermissionError):
        reader.set(2000.0)


def test_frozen_time_follows_the_shared_clock_in_threads_too(tmp_path):
    """Three frames below threading.Thread.run (like the addon's registration thread), time.time()
    is the simulated time; with freezegun's default stack inspection it would be the real one.
    Durations (time.monotonic) stay real, so the addon's monotonic budgets still apply."""
    result = run_python(f"""
        import json, threading, time, datetime
        from simulators.clock import SharedClock, FrozenProcessClock, Real
        owner = SharedClock({str(tmp_path / 'clock')!r}, create_at=1_700_000_000.0)
        frozen = FrozenProcessClock(SharedClock(owner.path))
        def deep(): return time.time(), datetime.datetime.now().timestamp(), time.monotonic()
        def middle(): return deep()
        def top(out): out.append(middle())
        seen = []
        t = threading.Thread(target=top, args=(seen,)); t.start(); t.join(5)
        owner.advance(60)
        before_sync = time.time()
        frozen.sync()
        t = threading.Thread(target=top, args=(seen,)); t.start(); t.join(5)
        waited = threading.Event().wait(0.05)  # threading's own timeouts still use real time
        print(json.dumps({{"seen": seen, "before_sync": before_sync, "real": Real.time(),
                          "waited": waited}}))
    """)
    (t1, d1, m1), (t2, d2, m2) = result["seen"]
    assert t1 == d1 == 1_700_000_000.0 and t2 == d2 == 1_700_000_060.0
    assert 0 <= m2 - m1 < 30  # real: not the 60 simulated seconds
    assert result["before_sync"] == 1_700_000_000.0  # moves only at a unit of work
    assert abs(result["real"] - time.time()) < 120  # Real is the real clock, even while frozen
    assert result["waited"] is False


def test_container_environment_answers_hostname_and_addresses_only(tmp_path):
    result = run_python("""
        import json, os, socket
        from simulators.container import Container, enter
        enter(Container("prod-1234abcd", ("10.3.1.2", "fd00:1:3::102"), "staging"))
        infos = socket.getaddrinfo("prod-1234abcd", None, proto=socket.IPPROTO_TCP)
        v4 = socket.getaddrinfo("prod-1234abcd", 80, socket.AF_INET)
        local = socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET)
        try:
            socket.getaddrinfo("prod-1234abcd", None, socket.AF_UNIX)
            unix = "resolved"
        except socket.gaierror:
            unix = "gaierror"
        print(json.dumps({"hostname": socket.gethostname(), "all": [i[4][0] for i in infos],
                          "v4": [i[4] for i in v4], "local": local[0][4][0],
                          "ifaces": socket.if_nameindex(), "stage": os.environ.get("ODOO_STAGE"),
                          "unix": unix}))
    """)
    assert result["hostname"] == "prod-1234abcd"
    assert result["all"] == ["10.3.1.2", "fd00:1:3::102"]
    assert result["v4"] == [["10.3.1.2", 80]]
    assert result["local"] == "127.0.0.1"  # every other name resolves as usual
    assert result["ifaces"] == []
    assert result["stage"] == "staging"
    assert result["unix"] == "gaierror"


def test_addon_payload_inside_a_container_uses_its_addresses():
    """The addon's own get_ip_addresses() (unchanged) sees the container's addresses."""
    result = run_python("""
        import json
        from simulators.container import Container, enter
        enter(Container("odoo-cafe0001", ("10.7.8.9", "fd00:1:7::809"), "production"))
        import odoo
        from odoo.tools import config
        path = config['addons_path']
        config['addons_path'] = path + [{addon!r}] if isinstance(path, list) else path + ',' + {addon!r}
        from odoo.modules.module import initialize_sys_path
        initialize_sys_path()
        from odoo.addons.odoo_dev_mcp.services import phone_home
        print(json.dumps({{"host": phone_home.get_server_hostname(), "ips": phone_home.get_ip_addresses(),
                          "stage": phone_home.get_odoo_stage()}}))
    """.format(addon=str(paths.ADDONS)))
    assert result == {"host": "odoo-cafe0001", "stage": "production",
                      "ips": {"primary": "10.7.8.9", "all": ["10.7.8.9", "fd00:1:7::809"]}}


def test_event_log_keeps_whole_lines_from_forked_writers(tmp_path):
    path = str(tmp_path / "events.jsonl")
    writer = EventWriter(path, server="s", gen=0, role="test")
    children = []
    for child in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                for i in range(200):
                    writer.emit("x", child=child, i=i, padding="y" * 300)
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    events = EventReader(path).all()
    assert len(events) == 800
    for child in range(4):
        assert [e["i"] for e in events if e["child"] == child] == list(range(200))


def test_guard_accepts_the_simulated_odoo_and_refuses_another(tmp_path, monkeypatch):
    paths.check_no_real_odoo()
    fake = tmp_path / "odoo"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(paths.OdooShadowError, match="different package named 'odoo'"):
        paths.check_no_real_odoo()
