"""Behaviour that differs between 17.0, 18.0 and 19.0, each checked in a
fresh interpreter started with ODOO_SIM_VERSION."""
import pytest

from .conftest import FLAVOURS, run_flavour


@pytest.mark.parametrize('version', FLAVOURS)
def test_release_config_and_caches(version, tmp_path):
    out = run_flavour(version, """
        from odoo import release
        from odoo.modules.registry import Registry
        service_db.exp_create_database('f1')
        reg = Registry('f1')
        caches = {}
        for name in ('default', 'stable'):
            try:
                reg.clear_cache(name)
                caches[name] = True
            except KeyError:
                caches[name] = False
        print(json.dumps({'version': release.version, 'info': list(release.version_info),
                          'serie': release.serie, 'db_name': config['db_name'],
                          'addons_path_is_list': isinstance(config['addons_path'], list),
                          'http_port': config['http_port'], 'caches': caches,
                          'current_test': odoo.modules.module.current_test}))
    """, tmp_path)
    major = int(version.split('.')[0])
    assert out['version'] == out['serie'] == version
    assert out['info'] == [major, 0, 0, 'final', 0, '']
    assert out['db_name'] == ([] if major >= 19 else False)
    assert out['addons_path_is_list'] == (major >= 19)
    assert out['http_port'] == 8069
    assert out['current_test'] is (None if major < 18 else False)
    assert out['caches'] == {'default': True, 'stable': major >= 19}


@pytest.mark.parametrize('version', FLAVOURS)
def test_numbercall_and_cron_fields(version, tmp_path):
    out = run_flavour(version, """
        import datetime
        from freezegun import freeze_time
        service_db.exp_create_database('f2')
        try:
            service_db.install_modules('f2', ['sim_numbercall'])
            numbercall = 'installed'
        except Exception as e:
            numbercall = str(e)
        reg = service_db.install_modules('f2', ['sim_good'])
        with reg.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            job = env.ref('sim_good.ir_cron_heartbeat')
            job.write({'active': True, 'nextcall': datetime.datetime(2030, 1, 1)})
            job_id = job.id
        for minute in (1, 3):
            with freeze_time(datetime.datetime(2030, 1, 1, 0, minute)):
                env_cls = reg['ir.cron']
                env_cls._process_jobs('f2')
        with reg.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            beats = env['ir.config_parameter'].get_param('sim_good.beats')
            active = env['ir.cron'].browse(job_id).active
            try:
                with cr.savepoint():
                    env['ir.cron'].create({'name': 'zero', 'model_id': env.ref('base.model_ir_cron').id,
                                           'code': 'pass', 'interval_number': 0})
                    env.flush_all()
                zero = 'accepted'
            except Exception as e:
                zero = type(e).__name__
        print(json.dumps({'numbercall': numbercall, 'beats': beats, 'active': active, 'zero': zero}))
    """, tmp_path)
    if version == '17.0':
        assert out['numbercall'] == 'installed'
        # no numbercall in the record: numbercall=1, runs once then deactivates
        assert out == {'numbercall': 'installed', 'beats': '1', 'active': False, 'zero': 'accepted'}
    else:
        assert "Invalid field 'numbercall' on model 'ir.cron'" in out['numbercall']
        assert (out['beats'], out['active'], out['zero']) == ('2', True, 'CheckViolation')


@pytest.mark.parametrize('version', FLAVOURS)
def test_jsonrpc_route_type_and_bearer_auth(version, tmp_path):
    out = run_flavour(version, """
        from werkzeug.test import Client
        service_db.exp_create_database('f3')
        try:
            service_db.install_modules('f3', ['sim_jsonrpc'])
            jsonrpc = 'installed'
        except AssertionError:
            jsonrpc = 'AssertionError'
        reg = service_db.install_modules('f3', ['sim_good'])
        client = Client(odoo.http.root)
        result = {'jsonrpc': jsonrpc}
        if jsonrpc == 'installed':
            res = client.post('/sim/jsonrpc', json={'jsonrpc': '2.0', 'params': {'value': 1}, 'id': 1})
            result['jsonrpc_answer'] = res.get_json()
        result['bearer_none'] = client.get('/sim/bearer').status_code
        with reg.cursor() as cr:
            key = api.Environment(cr, 2, {})['res.users.apikeys']._generate('rpc', 'test', None)
        def bearer(token):
            return client.get('/sim/bearer', headers={'Authorization': 'Bearer ' + token}).status_code
        result['bearer_ok'] = bearer(key)
        result['bearer_bad'] = bearer('nope' * 5)
        print(json.dumps(result))
    """, tmp_path)
    if version == '19.0':
        assert out['jsonrpc'] == 'installed'
        assert out['jsonrpc_answer'] == {'jsonrpc': '2.0', 'id': 1, 'result': {'echo': 1}}
    else:
        assert out['jsonrpc'] == 'AssertionError'
    if version == '17.0':
        assert (out['bearer_none'], out['bearer_ok'], out['bearer_bad']) == (403, 403, 403)
    else:
        assert (out['bearer_none'], out['bearer_ok'], out['bearer_bad']) == (401, 200, 401)


@pytest.mark.parametrize('version', FLAVOURS)
def test_database_selection(version, tmp_path):
    out = run_flavour(version, """
        from werkzeug.test import Client
        service_db.create_database('fa', modules=['sim_good'])
        service_db.create_database('fb', modules=['sim_good'])
        client = Client(odoo.http.root)
        two_dbs = client.get('/sim/ping').status_code
        header = client.get('/sim/ping', headers={'X-Odoo-Database': 'fb'})
        config['db_name'] = ['fa'] if isinstance(config['db_name'], list) else 'fa'
        single = client.get('/sim/ping').get_json()
        print(json.dumps({'two_dbs': two_dbs, 'header': header.status_code,
                          'header_db': header.get_json()['db'] if header.status_code == 200 else None,
                          'single': single['db']}))
    """, tmp_path)
    assert out['two_dbs'] == 404 and out['single'] == 'fa'
    if version == '19.0':
        assert (out['header'], out['header_db']) == (200, 'fb')
    else:
        assert out['header'] == 404
