"""The receiver down, answering 503, or hanging: health stays fast, and once the receiver is
back exactly one successful registration arrives. The three run side by side (each its own
database, receiver and prefork server), since each waits out the addon's 30 s back-off."""

import time
from concurrent.futures import ThreadPoolExecutor

import requests

HEALTH_BOUND_SECONDS = 0.2
# the addon's back-off after a failed registration (registration.RETRY_AFTER_SECONDS) + margin
BACK_IN_SECONDS = 30 + 20


def health_latencies(url, count, pause=0.0):
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        answer = requests.get(f"{url}/mcp/v1/health", timeout=10)
        latencies.append(time.perf_counter() - started)
        assert answer.status_code == 200
        time.sleep(pause)
    return latencies


def trouble_then_recovery(odoo, make_db, fleet, mode):
    hostname = f"trouble-{mode}"
    dbname = make_db(mode)
    config = odoo.write_config(f"trouble-{mode}", sections={
        "odoo_dev_mcp": {"phone_home_url": fleet.url}})
    server = odoo.serve(hostname, config, dbname, workers=2, hostname=hostname)
    with ThreadPoolExecutor(4) as pool:  # each worker's first request loads its routing
        list(pool.map(lambda _: health_latencies(server.url, 1), range(4)))
    fleet.mode = mode
    slow = [latency for latency in health_latencies(server.url, 20, pause=0.05)
            if latency >= HEALTH_BOUND_SECONDS]
    failed_attempts = fleet.wait_for(lambda: len(fleet.registrations(hostname, mode=None)) >= 1,
                                     timeout=15)
    fleet.mode = "ok"
    deadline = time.monotonic() + BACK_IN_SECONDS
    while not fleet.registrations(hostname) and time.monotonic() < deadline:
        slow += [latency for latency in health_latencies(server.url, 1)
                 if latency >= HEALTH_BOUND_SECONDS]
        time.sleep(1)
    time.sleep(3)  # anything more would come now
    return {"slow": slow, "failed_attempts": failed_attempts,
            "registered": len(fleet.registrations(hostname))}


def test_receiver_trouble_never_slows_health(odoo, make_db, receiver):
    # The addon logs its failed attempts: a warning the operator should see.
    odoo.expect_warnings += ["MCP registration of", "MCP heartbeat of"]
    fleets = {mode: receiver(hang_seconds=60) for mode in ("down", "503", "hang")}
    with ThreadPoolExecutor(len(fleets)) as pool:
        outcomes = dict(zip(fleets, pool.map(
            lambda mode: trouble_then_recovery(odoo, make_db, fleets[mode], mode), fleets),
            strict=True))
    for mode, outcome in outcomes.items():
        assert outcome["slow"] == [], (mode, outcome)
        assert outcome["registered"] == 1, (mode, outcome)
    assert outcomes["503"]["failed_attempts"] and outcomes["hang"]["failed_attempts"]
