"""The addon's own tests (odoo-bin --test-enable --test-tags /odoo_dev_mcp) pass on real Odoo,
with and without the fleet configured in odoo.conf."""

import re

import pytest

from . import odoo_env

RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")


def fleet_configuration():
    sections = {"odoo_dev_mcp": {"phone_home_url": "http://127.0.0.1:9/",
                                 "phone_home_token": "conf-t0ken"}}
    options = {}
    if odoo_env.major() < 19:  # 17/18 read legacy [options] keys silently; 19 warns
        options = {"mcp_phone_home_url": "http://127.0.0.1:9/", "mcp_server_port": "8443"}
    return options, sections


@pytest.mark.parametrize("configured", [False, True], ids=["plain-conf", "fleet-in-conf"])
def test_in_addon_tests_pass(odoo, make_db, configured):
    options, sections = fleet_configuration() if configured else ({}, {})
    config = odoo.write_config("addon-tests", options=options, sections=sections)
    dbname = make_db("tests")
    log = odoo.run("addon-tests", config, ["-d", dbname, "-u", "odoo_dev_mcp", "--test-enable",
                                           "--test-tags", "/odoo_dev_mcp", "--no-http"])
    results = RESULT.findall(log.text())
    assert results, log.text()[-3000:]
    failed, errors, ran = map(int, results[-1])
    assert (failed, errors) == (0, 0), log.text()[-6000:]
    assert ran >= 14
