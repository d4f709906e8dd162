"""Odoo's test mode: TestCursors over the test's own cursor (src/odoo/sql_db.py, registry.py,
odoo/tests/). Each flavour in a subprocess of its own (the flavour is fixed at import)."""
import textwrap

import pytest

from .conftest import FLAVOURS, run_flavour

# An HttpCase on database tm1 (sim_good), its test running, as Odoo's runner leaves them:
# `case`, `test`, `reg`, `V`, and `cursor(ro)`: a TestCursor, read-only when asked (18/19).
HARNESS = """
    import logging
    import psycopg2.errors
    import odoo.modules.module
    from odoo import release
    from odoo.tests.common import HttpCase
    V = release.SERIE_MAJOR
    reg = service_db.create_database('tm1', modules=['sim_good'])
    config['db_name'] = ['tm1'] if isinstance(config['db_name'], list) else 'tm1'

    class Case(HttpCase):
        def runTest(self):
            pass

    Case.setUpClass()
    test = Case()
    odoo.modules.module.current_test = 'sim_good' if V == 17 else test
    test.setUp()

    def cursor(ro=False):
        return reg.cursor(readonly=True) if ro else reg.cursor()

    def param(cr, key):
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (key,))
        row = cr.fetchone()
        return row and row[0]

    def insert(cr, key):
        cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, 'v')", (key,))

    def error(func):
        try:
            func()
        except Exception as exc:
            return [type(exc).__name__, str(exc).strip()]
        return None
"""


def run(version, body, tmp_path):
    return run_flavour(version, textwrap.dedent(HARNESS) + textwrap.dedent(body), tmp_path)


@pytest.mark.parametrize('version', FLAVOURS)
def test_test_cursor_commit_rollback_close_on_the_test_cursor(version, tmp_path):
    out = run(version, """
        cr = reg.cursor()
        out = {'class': type(cr).__module__}
        insert(cr, 'tm.committed')
        cr.postcommit.add(lambda: out.setdefault('postcommit', 'ran'))
        cr.commit()
        insert(cr, 'tm.rolled_back')
        cr.rollback()
        insert(cr, 'tm.after_rollback')
        cr.commit()
        insert(cr, 'tm.closed_uncommitted')
        cr.close()
        out['closed_execute'] = error(lambda: cr.execute("SELECT 1"))
        keys = ['tm.committed', 'tm.rolled_back', 'tm.after_rollback', 'tm.closed_uncommitted']
        out['test_cr_sees'] = [param(test.cr, k) for k in keys]
        with reg.cursor() as cr2:        # the with: commit, then close
            insert(cr2, 'tm.with')
        out['with'] = param(test.cr, 'tm.with')
        out['stack_empty'] = type(cr)._cursors_stack == []
        test.doCleanups()
        Case.doClassCleanups()
        odoo.modules.module.current_test = None if V == 17 else False
        # the test's transaction is rolled back: nothing of it outlives the test
        with reg.cursor() as plain:
            out['after_test'] = [param(plain, k) for k in keys + ['tm.with']]
            out['plain'] = type(plain).__name__
        print(json.dumps(out))
    """, tmp_path)
    major = int(version.split('.')[0])
    assert out['class'] == ('odoo.tests.test_cursor' if major >= 19 else 'odoo.sql_db')
    assert 'postcommit' not in out            # TestCursor drops post-commit callbacks
    assert out['test_cr_sees'] == ['v', None, 'v', None]
    assert out['with'] == 'v'
    assert out['stack_empty'] is True
    if major >= 18:
        assert out['closed_execute'][0] == 'AssertionError'
    else:
        assert out['closed_execute'] is None    # 17 runs it on the test cursor all the same
    assert out['after_test'] == [None] * 5
    assert out['plain'] == 'Cursor'


@pytest.mark.parametrize('version', FLAVOURS)
def test_read_only_test_cursor_and_read_write_from_read_only(version, tmp_path):
    out = run(version, """
        out = {}
        if V == 17:
            out['readonly_kw'] = error(lambda: reg.cursor(readonly=True))
            ro = reg.cursor()
        else:
            ro = cursor(ro=True)
        out['ro_attr'] = getattr(ro, 'readonly', None)
        rw = reg.cursor()                 # before any query: no savepoint yet, allowed
        rw.close()
        out['read'] = param(ro, 'web.base.url') is not None
        out['write'] = error(lambda: insert(ro, 'tm.ro'))
        ro.rollback()                     # back to before SET TRANSACTION READ ONLY
        out['rw_from_ro'] = error(lambda: reg.cursor().close())
        param(ro, 'web.base.url')
        out['rw_from_ro_savepoint'] = error(lambda: reg.cursor())
        out['ro_from_ro'] = error(lambda: (cursor(ro=True) if V > 17 else reg.cursor()).close())
        ro.close()
        rw = reg.cursor()
        insert(rw, 'tm.rw')               # the read-only mode ended with its savepoint
        rw.commit()
        rw.close()
        out['rw_after'] = param(test.cr, 'tm.rw')
        print(json.dumps(out))
    """, tmp_path)
    major = int(version.split('.')[0])
    if major == 17:
        assert out['readonly_kw'][0] == 'TypeError'
        assert out['ro_attr'] is None and out['write'] is None
        assert out['rw_from_ro_savepoint'] is None
    else:
        assert out['ro_attr'] is True
        assert out['write'] == ['ReadOnlySqlTransaction', 'cannot execute INSERT in a read-only transaction']
        assert out['rw_from_ro_savepoint'] == [
            'Exception', 'Opening a read/write test cursor from a readonly one']
    assert out['read'] is True
    assert out['rw_from_ro'] is None
    assert out['ro_from_ro'] is None
    assert out['rw_after'] == 'v'


@pytest.mark.parametrize('version', ['18.0', '19.0'])
def test_read_only_disabled_gives_read_write_test_cursors(version, tmp_path):
    out = run(version, """
        test.doCleanups()
        Case.doClassCleanups()

        class NoReadonly(HttpCase):
            readonly_enabled = False   # 18.0
            def runTest(self):
                pass

        NoReadonly.setUpClass()
        if V >= 19:
            NoReadonly.set_registry_readonly_mode(False)
        test = NoReadonly()
        odoo.modules.module.current_test = test
        test.setUp()
        ro = reg.cursor(readonly=True)
        param(ro, 'web.base.url')
        out = {'readonly': ro.readonly, 'rw_from_it': error(lambda: reg.cursor().close())}
        ro.close()
        print(json.dumps(out))
    """, tmp_path)
    assert out == {'readonly': False, 'rw_from_it': None}


@pytest.mark.parametrize('version', FLAVOURS)
def test_routes_in_test_mode(version, tmp_path):
    out = run(version, """
        import json as _json
        logging.basicConfig(level=logging.WARNING)
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append((record.levelname, record.getMessage(),
                                repr(record.exc_info[1]) if record.exc_info else ''))
        logging.getLogger().addHandler(Keep())

        def get(url):
            response = test.url_open(url)
            body = response.get_data(as_text=True)
            return [response.status_code, _json.loads(body) if body.startswith('{') else None]

        out = {'cursor': get('/sim/cursor'), 'write_default': get('/sim/write_default'),
               'write_rw': get('/sim/write_rw')}
        out['written'] = [test.env['ir.config_parameter'].get_param(k)
                          for k in ('sim_good.write_default', 'sim_good.write_rw')]
        out['own_cursor'] = get('/sim/own_cursor')
        out['own_cursor_rw'] = get('/sim/own_cursor_rw')
        out['logs'] = [r for r in records if r[0] in ('WARNING', 'ERROR')]
        out['no_cookie'] = None
        if V >= 19:   # a request without the test's cookie is refused
            from werkzeug.test import Client
            out['no_cookie'] = Client(odoo.http.root).get('/sim/cursor').status_code
        print(json.dumps(out))
    """, tmp_path)
    major = int(version.split('.')[0])
    readonly = True if major >= 18 else None
    assert out['cursor'] == [200, {'readonly': readonly}]
    # a write on a read-only route is replayed on a read/write TestCursor, as outside tests
    assert out['write_default'] == [200, {'readonly': False if major >= 18 else None}]
    assert out['write_rw'] == [200, {'readonly': False if major >= 18 else None}]
    assert out['written'] == ['1', '1']
    retried = [m for _level, m, _exc in out['logs'] if 'retrying with a read/write cursor' in m]
    assert len(retried) == (1 if major >= 18 else 0)
    if major >= 18:
        # a read-only request that opens a read/write cursor of its own fails
        assert out['own_cursor'][0] == 500
        assert [(m, exc) for level, m, exc in out['logs'] if level == 'ERROR' and exc] == [
            ('Exception during request handling.',
             "Exception('Opening a read/write test cursor from a readonly one')")]
    else:
        assert out['own_cursor'] == [200, {'readonly': None}]
        assert [log for log in out['logs'] if log[0] == 'ERROR'] == []
    assert out['own_cursor_rw'] == [200, {'readonly': False if major >= 18 else None}]
    assert out['no_cookie'] == (400 if major >= 19 else None)
