"""REPEATABLE READ behaviour between forked processes, on SQLite and (when
ODOO_SIM_TEST_PG_DSN is set) PostgreSQL."""
import multiprocessing
import time
import traceback

import psycopg2.errors
import pytest

from odoo import api
from odoo.service import db as service_db

CTX = multiprocessing.get_context('fork')


def _in_child(target, *args):
    queue = CTX.Queue()

    def run():
        try:
            queue.put(('ok', target(*args)))
        except BaseException as e:  # noqa: BLE001
            queue.put(('error', f'{type(e).__module__}.{type(e).__name__}', traceback.format_exc()))
    proc = CTX.Process(target=run)
    proc.start()
    return proc, queue


def _result(proc, queue, timeout=30):
    res = queue.get(timeout=timeout)
    proc.join(timeout)
    return res


@pytest.fixture
def conc_registry(backend, dbname):
    return service_db.create_database(dbname, modules=['sim_good'])


def test_concurrent_update_blocks_then_serialization_failure(conc_registry):
    reg = conc_registry
    ready = CTX.Event()
    go = CTX.Event()

    def second_writer():
        with reg.cursor() as cr:
            cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'web.base.url'")
            ready.set()
            go.wait(10)
            start = time.monotonic()
            try:
                cr.execute("UPDATE ir_config_parameter SET value = 'child' WHERE key = 'web.base.url'")
            except psycopg2.errors.SerializationFailure:
                return ('SerializationFailure', time.monotonic() - start)
            return ('updated', time.monotonic() - start)

    proc, queue = _in_child(second_writer)
    assert ready.wait(10)
    with reg.cursor() as cr:
        cr.execute("UPDATE ir_config_parameter SET value = 'parent' WHERE key = 'web.base.url'")
        go.set()
        time.sleep(0.6)   # the child is blocked on our row meanwhile
    status, *payload = _result(proc, queue)
    assert status == 'ok', payload
    outcome, waited = payload[0]
    assert outcome == 'SerializationFailure'
    assert waited >= 0.4
    with reg.cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'web.base.url'")
        assert cr.fetchone()[0] == 'parent'


def test_concurrent_insert_of_same_key_unique_violation(conc_registry):
    reg = conc_registry
    ready = CTX.Event()
    go = CTX.Event()

    def second_creator():
        with reg.cursor() as cr:
            env = api.Environment(cr, 1, {})
            assert not env['ir.config_parameter'].search([('key', '=', 'race.key')])
            ready.set()
            go.wait(10)
            try:
                env['ir.config_parameter'].set_param('race.key', 'child')
                env.flush_all()
            except psycopg2.errors.UniqueViolation:
                return 'UniqueViolation'
            return 'created'

    proc, queue = _in_child(second_creator)
    assert ready.wait(10)
    with reg.cursor() as cr:
        env = api.Environment(cr, 1, {})
        env['ir.config_parameter'].set_param('race.key', 'parent')
        env.flush_all()
        go.set()
        time.sleep(0.4)
    status, *payload = _result(proc, queue)
    assert (status, payload[0]) == ('ok', 'UniqueViolation'), payload


CAS = ("UPDATE ir_config_parameter SET value=%s, write_date=now() at time zone 'UTC' "
       "WHERE key=%s AND value=%s RETURNING id")


def test_compare_and_set_exactly_one_winner(conc_registry):
    reg = conc_registry
    with reg.cursor() as cr:
        api.Environment(cr, 1, {})['ir.config_parameter'].set_param('cas.key', 'v0')
    start = CTX.Event()

    def contender(n):
        start.wait(10)
        try:
            with reg.cursor() as cr:
                cr.execute(CAS, [f'v{n}', 'cas.key', 'v0'])
                return 'won' if cr.fetchall() else 'lost'
        except psycopg2.errors.SerializationFailure:
            return 'serialization'

    procs = [_in_child(contender, n) for n in range(1, 7)]
    time.sleep(0.2)
    start.set()
    outcomes = [_result(p, q) for p, q in procs]
    assert all(o[0] == 'ok' for o in outcomes), outcomes
    results = [o[1] for o in outcomes]
    assert results.count('won') == 1, results
    with reg.cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'cas.key'")
        assert cr.fetchone()[0] != 'v0'
