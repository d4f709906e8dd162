"""Six ways real Odoo was stricter than the simulated Odoo once (../shared/odoo-notes.md, "Learned
the hard way"): each is held here to what the real 17.0/18.0/19.0 source does."""
import logging
import textwrap

import pytest

from .conftest import FLAVOURS, make_user, run_flavour

# a logging handler the subprocesses install to report their records
CAPTURE = """
import logging
records = []
class _Capture(logging.Handler):
    def emit(self, record):
        records.append({'name': record.name, 'level': record.levelname,
                        'msg': record.getMessage(), 'exc': bool(record.exc_info)})
logging.getLogger().addHandler(_Capture())
logging.getLogger().setLevel(logging.INFO)
"""


def captured(code):
    """``code`` run after CAPTURE: its log records are in ``records``."""
    return CAPTURE + textwrap.dedent(code)


# ---------------------------------------------------------------- 1. Transaction.envs is weak
@pytest.mark.parametrize('version', FLAVOURS)
def test_writes_of_a_collected_environment_are_dropped_at_commit(version, tmp_path):
    out = run_flavour(version, """
        reg = service_db.create_database('w1', modules=['base'])
        with reg.cursor() as cr:
            icp = api.Environment(cr, SUPERUSER_ID, {})['ir.config_parameter']
            for key in ('k.uid1', 'k.nouser', 'k.alive', 'k.flushed'):
                icp.set_param(key, 'old')

        def write_and_forget(cr, uid, key, flush=False):
            env = api.Environment(cr, uid, {}, su=True)
            env['ir.config_parameter'].set_param(key, 'new')
            if flush:
                env.flush_all()

        with reg.cursor() as cr:   # the first env has a user: 19.0's default_env
            write_and_forget(cr, SUPERUSER_ID, 'k.uid1')
            cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES ('k.raw1', 'raw')")
        with reg.cursor() as cr:   # no env with a user id
            write_and_forget(cr, None, 'k.nouser')
            cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES ('k.raw2', 'raw')")
        with reg.cursor() as cr:
            kept = api.Environment(cr, None, {}, su=True)
            kept['ir.config_parameter'].set_param('k.alive', 'new')
        with reg.cursor() as cr:
            write_and_forget(cr, None, 'k.flushed', flush=True)
        with reg.cursor() as cr:
            cr.execute("SELECT key, value FROM ir_config_parameter WHERE key LIKE 'k.%'")
            print(json.dumps(dict(cr.fetchall())))
    """, tmp_path)
    major = int(version.split('.')[0])
    assert out['k.raw1'] == out['k.raw2'] == 'raw'        # raw SQL of the same transactions
    assert out['k.nouser'] == 'old'                       # dropped on every flavour
    assert out['k.uid1'] == ('new' if major >= 19 else 'old')
    assert out['k.alive'] == out['k.flushed'] == 'new'


def test_records_and_caches_keep_no_environment_alive(registry):
    import gc
    import weakref

    from odoo import api
    gc.disable()  # refcounting alone must free it, as it does in Odoo
    try:
        with registry.cursor() as cr:
            # no user id: not 19.0's default_env, the one environment Odoo holds strongly
            env = api.Environment(cr, None, {}, su=True)
            users = env['res.users'].search([])
            users.mapped('name')          # fills the transaction cache
            env['ir.config_parameter'].get_param('web.base.url')   # and an ormcache
            probe = weakref.ref(env)
            del env, users
            assert probe() is None
            assert len(cr.transaction.envs) == 0
    finally:
        gc.enable()


# ---------------------------------------------------------------- 2. read-only routes
@pytest.mark.parametrize('version', FLAVOURS)
def test_auth_none_routes_run_first_on_a_read_only_cursor(version, tmp_path):
    out = run_flavour(version, captured("""
        from werkzeug.test import Client
        import odoo.http
        config['db_replica_host'] = 'replica.example'   # a replica: the read-only pool exists
        service_db.create_database('ro1', modules=['sim_good'])
        config['db_name'] = ['ro1'] if isinstance(config['db_name'], list) else 'ro1'
        client = Client(odoo.http.root)
        result = {}
        for path in ('/sim/cursor', '/sim/write_default', '/sim/write_rw', '/sim/write_callable'):
            del records[:]
            response = client.get(path)
            result[path] = {'status': response.status_code, 'body': json.loads(response.get_data()),
                            'warnings': [r for r in records if r['level'] == 'WARNING']}
        print(json.dumps(result))
    """), tmp_path)
    major = int(version.split('.')[0])
    assert all(r['status'] == 200 for r in out.values())
    if major == 17:
        assert out['/sim/cursor']['body']['readonly'] is None     # no read-only cursors on 17
        assert not any(r['warnings'] for r in out.values())
        return
    assert out['/sim/cursor']['body']['readonly'] is True
    assert out['/sim/cursor']['warnings'] == []
    (warning,) = out['/sim/write_default']['warnings']
    assert warning['name'] == 'odoo.http' and warning['exc']
    # the parameter does not exist yet: set_param creates it
    assert warning['msg'] == ('cannot execute INSERT in a read-only transaction, '
                              'retrying with a read/write cursor')
    assert out['/sim/write_default']['body']['readonly'] is False     # the replay
    for path in ('/sim/write_rw', '/sim/write_callable'):
        assert out[path]['warnings'] == [] and out[path]['body']['readonly'] is False


@pytest.mark.parametrize('version', ['18.0', '19.0'])
def test_without_a_read_only_pool_readonly_routes_get_a_read_write_cursor(version, tmp_path):
    out = run_flavour(version, captured("""
        from werkzeug.test import Client
        import odoo.http
        service_db.create_database('ro2', modules=['sim_good'])
        config['db_name'] = ['ro2'] if isinstance(config['db_name'], list) else 'ro2'
        response = Client(odoo.http.root).get('/sim/write_default')
        print(json.dumps({'status': response.status_code, 'body': json.loads(response.get_data()),
                          'warnings': [r for r in records if r['level'] == 'WARNING']}))
    """), tmp_path)
    assert out == {'status': 200, 'body': {'readonly': False}, 'warnings': []}


@pytest.mark.parametrize('version', ['18.0', '19.0'])
def test_a_read_only_cursor_refuses_every_write(version, tmp_path):
    out = run_flavour(version, """
        import psycopg2.errors
        config['db_replica_host'] = 'replica.example'
        reg = service_db.create_database('ro3', modules=['base'])
        refused = {}
        for sql in ("UPDATE ir_config_parameter SET value = 'x'",
                    "INSERT INTO ir_config_parameter (key, value) VALUES ('a', 'b')",
                    "DELETE FROM ir_config_parameter",
                    "CREATE TABLE t_ro (id INTEGER)"):
            cr = reg.cursor(readonly=True)
            try:
                cr.execute("SELECT 1")
                cr.execute(sql, log_exceptions=False)
                refused[sql] = None
            except psycopg2.errors.ReadOnlySqlTransaction as e:
                refused[sql] = str(e).strip()
            finally:
                cr.close()
        print(json.dumps(refused))
    """, tmp_path)
    assert out == {
        "UPDATE ir_config_parameter SET value = 'x'": 'cannot execute UPDATE in a read-only transaction',
        "INSERT INTO ir_config_parameter (key, value) VALUES ('a', 'b')":
            'cannot execute INSERT in a read-only transaction',
        "DELETE FROM ir_config_parameter": 'cannot execute DELETE in a read-only transaction',
        "CREATE TABLE t_ro (id INTEGER)": 'cannot execute CREATE TABLE in a read-only transaction',
    }


# ---------------------------------------------------------------- 3. settings and field groups
@pytest.fixture
def portal_uid(registry):
    from odoo import api
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        gfield = env['res.users']._groups_field_name()
        return env['res.users'].create({'name': 'Portal', 'login': 'portal', 'share': True,
                                        gfield: [env.ref('base.group_portal').id]}).id


def test_default_get_reads_config_parameters_for_any_caller(registry, env_factory, portal_uid):
    from odoo.exceptions import AccessError
    with env_factory() as env:
        env['ir.config_parameter'].set_param('sim_good.secret', 's3cret')
        env['ir.config_parameter'].set_param('sim_good.url', 'http://u')
    internal_uid = make_user(registry, 'internal')
    for uid in (internal_uid, portal_uid):
        with env_factory(uid) as env:
            settings = env['res.config.settings']
            # what res_config.py does: ir.config_parameter.sudo(), no access check, no field groups
            assert settings.default_get(['sim_secret', 'sim_url']) == {
                'sim_secret': 's3cret', 'sim_url': 'http://u'}
            with pytest.raises(AccessError):
                env['ir.config_parameter'].get_param('sim_good.secret')
            with pytest.raises(AccessError):          # the model's ACL: base.group_system only
                settings.search_read([], ['sim_url'])
            with pytest.raises(AccessError):
                settings.create({'sim_url': 'http://evil'})
    with env_factory(2) as env:                        # the administrator
        record = env['res.config.settings'].create({})
        assert record.read(['sim_secret'])[0]['sim_secret'] == 's3cret'


def test_field_groups_stop_read_search_read_web_read_and_fetch(registry, env_factory):
    from odoo.exceptions import AccessError
    with env_factory() as env:
        note_id = env['sim.note'].create({'name': 'n', 'secret': 'hidden'}).id
    internal_uid = make_user(registry, 'internal2')
    with env_factory(internal_uid) as env:
        notes = env['sim.note'].browse(note_id)
        assert 'secret' not in notes.read()[0]                 # all fields: the forbidden left out
        assert notes.read(['name']) == [{'id': note_id, 'name': 'n'}]
        for call in (lambda: notes.read(['secret']),
                     lambda: env['sim.note'].search_read([], ['name', 'secret']),
                     lambda: notes.web_read({'secret': {}}),
                     lambda: notes.secret,
                     lambda: notes.write({'secret': 'x'})):
            with pytest.raises(AccessError, match='secret'):
                call()
        assert 'secret' not in env['sim.note'].fields_get()
    with env_factory(2) as env:
        assert env['sim.note'].browse(note_id).secret == 'hidden'


@pytest.mark.parametrize('version', FLAVOURS)
def test_onchange_of_new_settings_by_a_non_admin(version, tmp_path):
    out = run_flavour(version, """
        from odoo.exceptions import AccessError
        reg = service_db.create_database('oc1', modules=['sim_good'])
        with reg.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['ir.config_parameter'].set_param('sim_good.secret', 's3cret')
            uid = env['res.users'].create({'name': 'Plain', 'login': 'plain'}).id
        with reg.cursor() as cr:
            env = api.Environment(cr, uid, {})
            try:
                result = env['res.config.settings'].onchange({}, [], {'sim_secret': {}, 'sim_limit': {}})
            except AccessError as e:
                result = {'error': str(e)}
        print(json.dumps(result))
    """, tmp_path)
    if version == '19.0':   # 19.0's onchange checks create access on a new record
        assert 'You are not allowed to create' in out['error']
    else:                   # 17.0/18.0 check nothing: default_get's values come through
        assert out == {'value': {'sim_secret': 's3cret', 'sim_limit': 7}}


# ---------------------------------------------------------------- 4. bad queries are logged
def test_a_failing_query_is_logged_at_error_unless_told_not_to(env_factory, caplog):
    import psycopg2
    with env_factory() as env:
        cr = env.cr
        with caplog.at_level(logging.DEBUG, logger='odoo.sql_db'):
            with pytest.raises(psycopg2.Error), cr.savepoint(flush=False):
                cr.execute("SELECT nonexistent_column FROM ir_config_parameter")
            with pytest.raises(psycopg2.Error), cr.savepoint(flush=False):
                cr.execute("SELECT other_missing FROM ir_config_parameter", log_exceptions=False)
            with pytest.raises(psycopg2.errors.UniqueViolation), cr.savepoint(flush=False):
                cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES ('web.base.url', 'x')")
    errors = [r for r in caplog.records if r.name == 'odoo.sql_db' and r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert errors[0].getMessage().startswith(
        'bad query: SELECT nonexistent_column FROM ir_config_parameter\nERROR: ')
    assert errors[1].getMessage().startswith('bad query: INSERT INTO ir_config_parameter')
    assert not any('other_missing' in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- 5. signal_changes when not ready
@pytest.mark.parametrize('version', FLAVOURS)
def test_signal_changes_while_the_registry_loads(version, tmp_path):
    out = run_flavour(version, captured("""
        from odoo.modules.registry import Registry
        reg = service_db.create_database('sc1', modules=['base'])
        before = reg.get_sequences()[1]['default']
        del records[:]
        reg = service_db.install_modules('sc1', ['sim_signal'])
        from odoo.addons.sim_signal import SEEN
        print(json.dumps({'warnings': [r for r in records if r['level'] == 'WARNING'],
                          'seen': SEEN, 'ready': reg.ready,
                          'signaled': reg.get_sequences()[1]['default'] - before}))
    """), tmp_path)
    signal_warnings = [r for r in out['warnings']
                       if r['msg'] == 'Calling signal_changes when registry is not ready is not suported']
    assert out['ready'] is True and out['seen']['ready'] is False
    if version == '17.0':   # 17 signals whatever the registry's state
        assert signal_warnings == [] and out['seen']['pending'] == [] and out['signaled'] >= 1
    else:                   # 18/19: a warning, nothing signaled, the invalidation left pending
        assert len(signal_warnings) == 1 and signal_warnings[0]['name'] == 'odoo.modules.registry'
        assert out['seen']['pending'] == ['default']


# ---------------------------------------------------------------- 6. the configuration file
@pytest.mark.parametrize('version', FLAVOURS)
def test_unknown_config_file_options(version, tmp_path):
    conf = tmp_path / 'odoo.conf'
    conf.write_text("[options]\ndb_host = db.example\nhttp_port = 8070\nlist_db = False\n"
                    "mcp_phone_home_url = http://legacy\n\n"
                    "[odoo_dev_mcp]\nphone_home_url = http://section\n")
    out = run_flavour(version, captured(f"""
        import warnings
        config.parse_config(['-c', {str(conf)!r}])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            rcfile = config.rcfile
        print(json.dumps({{
            'warnings': [r for r in records if r['level'] == 'WARNING'],
            'config': config.get('config'), 'rcfile': rcfile,
            'rcfile_deprecated': [str(w.message) for w in caught if w.category is DeprecationWarning],
            'legacy': config.get('mcp_phone_home_url'), 'http_port': config['http_port'],
            'db_host': config.get('db_host'), 'list_db': config['list_db'],
            'misc': getattr(config, 'misc', None),
            'get_misc': (config.get_misc('odoo_dev_mcp', 'phone_home_url')
                         if hasattr(config, 'get_misc') else None),
        }}))
    """), tmp_path)
    assert out['legacy'] == 'http://legacy' and out['http_port'] == 8070
    assert out['db_host'] == 'db.example' and out['list_db'] is False
    assert out['rcfile'] == str(conf)
    if version == '19.0':
        (warning,) = out['warnings']
        assert warning['name'] == 'odoo.tools.config'
        assert warning['msg'] == (f"unknown option 'mcp_phone_home_url' in the config file at {conf}, "
                                  "option stored as-is, without parsing")
        assert out['config'] == str(conf)
        assert out['rcfile_deprecated'] == ["Since 19.0, use odoo.tools.config['config'] instead"]
        assert out['misc'] is None and out['get_misc'] is None   # other sections: ignored
    else:
        assert out['warnings'] == [] and out['rcfile_deprecated'] == []
        assert out['misc'] == {'odoo_dev_mcp': {'phone_home_url': 'http://section'}}
        assert out['get_misc'] == 'http://section'
