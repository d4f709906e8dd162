"""Fixtures shared by every suite."""

import os

import pytest


@pytest.fixture
def pg_dsn():
    """The real PostgreSQL from ODOO_SIM_TEST_PG_DSN (e.g. postgresql://postgres@127.0.0.1:5432).

    Without it, or unreachable, the test is skipped and says why; under CI it FAILS instead:
    CI has PostgreSQL, so a skip there would hide a broken variant.
    """
    dsn = os.environ.get("ODOO_SIM_TEST_PG_DSN")
    if not dsn:
        if os.environ.get("CI"):
            pytest.fail("CI runs the PostgreSQL variants: set ODOO_SIM_TEST_PG_DSN")
        pytest.skip("ODOO_SIM_TEST_PG_DSN not set")
    import psycopg2
    try:
        psycopg2.connect(dsn, dbname="postgres", connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unreachable at {dsn} in CI: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    return dsn


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, sim_config):
    """Run a simulated-Odoo test on SQLite, and again on the real PostgreSQL (see pg_dsn).
    `sim_config` is the requesting suite's configured simulated Odoo."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    dsn = request.getfixturevalue("pg_dsn")
    saved = sim_config["sim_db_dsn"]
    sim_config["sim_db_dsn"] = dsn
    try:
        yield "postgresql"
    finally:
        sim_config["sim_db_dsn"] = saved
