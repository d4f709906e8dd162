"""What the hostname check costs GET /mcp/v1/health in the steady state (hostname unchanged).

    PYTHONPATH=src python -m benchmarks.health_route [--requests 2000] [--rounds 7]

Runs the addon on the simulated Odoo (SQLite, in-process WSGI, no network), alternating rounds
with the check and with it switched off, and prints the median time per request of each and the
overhead. The simulated request path is lighter than real Odoo's, so the percentage here is an
upper bound of what a real server pays.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup():
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("ODOO_SIM_DATA_DIR", tempfile.mkdtemp(prefix="bench-health-"))
    from odoo.tools import config
    paths = config._as_list("addons_path") + [str(ROOT / "addon")]
    config["addons_path"] = paths if isinstance(config["addons_path"], list) else ",".join(paths)
    from odoo.modules.module import initialize_sys_path
    initialize_sys_path()
    from odoo import SUPERUSER_ID, api
    from odoo.addons.odoo_dev_mcp.services import phone_home, registration
    from odoo.service import db
    registry = db.create_database("bench_health", modules=["odoo_dev_mcp"])
    with registry.cursor() as cr:
        icp = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].sudo()
        icp.set_param(phone_home.URL_KEY, "http://127.0.0.1:9")  # never called: steady state
        icp.set_param(registration.LAST_HOSTNAME_KEY, phone_home.get_server_hostname())
    config["db_name"] = ["bench_health"] if isinstance(config["db_name"], list) else "bench_health"
    return registry, registration


def time_requests(client, count):
    started = time.perf_counter()
    for _ in range(count):
        response = client.get("/mcp/v1/health")
        assert response.status_code == 200
    return (time.perf_counter() - started) / count


def time_check(registry, registration, count):
    """The check alone, as the route runs it: an auth='none' env (no user) on a fresh cursor."""
    from odoo import api
    with registry.cursor() as cr:
        env = api.Environment(cr, None, {})
        registration.schedule_after_commit(env, "health")  # fills this process's cache
        started = time.perf_counter()
        for _ in range(count):
            registration.schedule_after_commit(env, "health")
        return (time.perf_counter() - started) / count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each measurement")
    args = parser.parse_args(argv)
    registry, registration = setup()
    from werkzeug.test import Client

    import odoo.http
    client = Client(odoo.http.root)
    real_check = registration.schedule_after_commit
    time_requests(client, 200)  # warm caches and routing
    # The best round of each is the least disturbed by whatever else the machine does.
    with_check, without_check, check_alone = [], [], []
    block = 50  # switch variants every 50 requests, so drift in machine load hits both alike
    for _ in range(args.rounds):
        spent = {True: 0.0, False: 0.0}
        for _block in range(max(1, args.requests // block)):
            for checking in (True, False):
                registration.schedule_after_commit = (
                    real_check if checking else (lambda env, trigger: False))
                spent[checking] += time_requests(client, block) * block
        registration.schedule_after_commit = real_check
        with_check.append(spent[True] / args.requests)
        without_check.append(spent[False] / args.requests)
        check_alone.append(time_check(registry, registration, args.requests))
    request, bare, check = min(with_check), min(without_check), min(check_alone)
    print(f"GET /mcp/v1/health, steady state, best of {args.rounds} rounds x {args.requests}")
    print(f"  whole request, with the hostname check:    {request * 1e6:8.1f} us")
    print(f"  whole request, check switched off:         {bare * 1e6:8.1f} us")
    print(f"  the check alone (two cached get_param):     {check * 1e6:8.1f} us")
    print(f"  check / whole request:                      {check / request * 100:8.2f} %")
    from odoo.service import db
    db.exp_drop("bench_health")


if __name__ == "__main__":
    main()
