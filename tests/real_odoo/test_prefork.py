"""Prefork Odoo (4 HTTP workers, a cron worker) rebuilt under new hostnames: exactly one
/register per hostname, whatever the burst of health requests; the cron's heartbeat follows it."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests


@pytest.fixture
def prefork(odoo, make_db, receiver):
    fleet = receiver()
    dbname = make_db("prefork")
    config = odoo.write_config("prefork", sections={"odoo_dev_mcp": {"phone_home_url": fleet.url}})

    def start(hostname):
        return odoo.serve(f"prefork-{hostname}", config, dbname, workers=4, hostname=hostname)

    return fleet, dbname, start


def burst(url, count):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: requests.get(f"{url}/mcp/v1/health", timeout=30),
                             range(count)))


@pytest.mark.parametrize("hostnames", [(("rebuild-a", 20), ("rebuild-b", 50))])
def test_each_new_hostname_registers_exactly_once(odoo, postgres, prefork, hostnames):
    fleet, dbname, start = prefork
    for hostname, concurrent in hostnames:
        server = start(hostname)
        answers = burst(server.url, concurrent)
        assert [answer.status_code for answer in answers] == [200] * concurrent
        assert fleet.wait_for(lambda h=hostname: fleet.registrations(h), timeout=20)
        burst(server.url, concurrent)  # the reported hostname: nothing more to send
        fleet.wait_for(lambda h=hostname: len(fleet.registrations(h)) > 1, timeout=3)
        assert len(fleet.registrations(hostname)) == 1, hostname
        server.stop()

    # A third hostname that no health request reaches: the cron registers it, then heartbeats.
    server = start("rebuild-c")
    postgres.run_cron_now(dbname)
    assert fleet.wait_for(lambda: fleet.heartbeats("rebuild-c"), timeout=30)
    (registration,) = fleet.registrations("rebuild-c")
    assert registration["at"] <= fleet.heartbeats("rebuild-c")[0]["at"]
    postgres.run_cron_now(dbname)
    assert fleet.wait_for(lambda: len(fleet.heartbeats("rebuild-c")) >= 2, timeout=30)
    assert len(fleet.registrations("rebuild-c")) == 1
    rows = postgres.query(dbname, "SELECT value FROM ir_config_parameter WHERE key = %s",
                          ("mcp.last_hostname",))
    assert rows == [("rebuild-c",)]
    assert all(call["json"]["hostname"] != "rebuild-c" for call in fleet.calls
               if call["at"] < registration["at"])
