"""Cursor semantics: close, commit hooks, savepoints, aborted transactions."""
import psycopg2
import psycopg2.errors
import pytest

from odoo import api


def test_closed_cursor_raises_interface_error(registry):
    cr = registry.cursor()
    cr.execute("SELECT 1")
    cr.close()
    assert cr.closed
    for use in (lambda: cr.execute("SELECT 1"), lambda: cr.fetchone(), cr.commit, cr.rollback,
                lambda: cr.rowcount):
        with pytest.raises(psycopg2.InterfaceError):
            use()


def test_postcommit_runs_after_commit_in_order_not_on_rollback(registry):
    calls = []
    with registry.cursor() as cr:
        cr.postcommit.add(lambda: calls.append('a'))
        cr.postcommit.add(lambda: calls.append('b'))
        assert calls == []
    assert calls == ['a', 'b']

    cr = registry.cursor()
    cr.postcommit.add(lambda: calls.append('dropped'))
    cr.rollback()
    cr.commit()
    cr.close()
    assert calls == ['a', 'b']

    with pytest.raises(ZeroDivisionError):
        with registry.cursor() as cr:
            cr.postcommit.add(lambda: calls.append('dropped too'))
            1 / 0  # noqa: B018
    assert calls == ['a', 'b'] and cr.closed


def test_context_manager_commits_or_rolls_back(registry):
    with registry.cursor() as cr:
        api.Environment(cr, 1, {})['ir.config_parameter'].set_param('cm.key', 'kept')
    with pytest.raises(RuntimeError):
        with registry.cursor() as cr:
            api.Environment(cr, 1, {})['ir.config_parameter'].set_param('cm.other', 'lost')
            raise RuntimeError
    with registry.cursor() as cr:
        cr.execute("SELECT key FROM ir_config_parameter WHERE key LIKE %s ORDER BY key", ['cm.%'])
        assert cr.fetchall() == [('cm.key',)]


def test_savepoint_rolls_back_and_reraises(registry):
    with registry.cursor() as cr:
        cr.execute("INSERT INTO sim_heartbeat (name) VALUES ('outer')")
        with pytest.raises(psycopg2.errors.UniqueViolation):
            with cr.savepoint():
                cr.execute("INSERT INTO sim_heartbeat (name) VALUES ('inner')")
                cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES ('web.base.url', 'dup')")
        cr.execute("SELECT name FROM sim_heartbeat ORDER BY id")
        assert cr.fetchall() == [('outer',)]


def test_error_aborts_the_transaction_until_rollback(registry):
    with registry.cursor() as cr:
        with pytest.raises(psycopg2.errors.UndefinedTable):
            cr.execute("SELECT * FROM no_such_table")
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cr.execute("SELECT 1")
        cr.rollback()
        cr.execute("SELECT 1")
        assert cr.fetchone() == (1,)


def test_portable_compare_and_set(registry):
    with registry.cursor() as cr:
        sql = ("UPDATE ir_config_parameter SET value=%s, write_date=now() at time zone 'UTC' "
               "WHERE key=%s AND value IS DISTINCT FROM %s RETURNING id")
        cr.execute(sql, ['http://new', 'web.base.url', 'http://new'])
        assert cr.rowcount == 1 and cr.fetchone()[0]
        cr.execute(sql, ['http://new', 'web.base.url', 'http://new'])
        assert cr.rowcount == 0 and cr.fetchone() is None
        cr.execute("UPDATE ir_config_parameter SET value=%s WHERE key=%s AND value=%s RETURNING id",
                   ['x', 'web.base.url', 'http://new'])
        assert len(cr.fetchall()) == 1
        cr.execute("SELECT key, write_date FROM ir_config_parameter WHERE key IN %s", [('web.base.url',)])
        key, write_date = cr.fetchone()
        assert key == 'web.base.url' and write_date.year >= 2000
        assert cr.dictfetchall() == []
