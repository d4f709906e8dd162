"""odoo.http.root: database selection, auth, CSRF, errors, replay."""
import threading

import pytest

import odoo.http
from odoo import release

from .conftest import as_json


def test_auth_none_env_has_no_user(client):
    res = client.get('/sim/ping')
    assert res.status_code == 200
    assert as_json(res)['uid'] is None and as_json(res)['env_is_none'] is False
    assert client.get('/sim/param').status_code == 403          # AccessError
    assert as_json(client.get('/sim/param_sudo')) == {'value': 'http://localhost:8069'}


def test_errors_are_http_errors(client):
    assert client.get('/sim/user_error').status_code == 400
    res = client.get('/sim/crash')
    assert res.status_code == 500 and 'secret detail' not in res.get_data(as_text=True)
    assert client.get('/sim/nowhere').status_code == 404
    assert client.post('/sim/ping').status_code == 405


def test_csrf_refuses_http_post(client):
    res = client.post('/sim/post', data={'a': '1'})
    assert res.status_code == 400 and 'CSRF' in res.get_data(as_text=True)
    res = client.post('/sim/post_nocsrf', json={'x': 1})
    assert res.status_code == 201 and as_json(res) == {'body': {'x': 1}}


def test_json_route(client):
    res = client.post('/sim/json', json={'jsonrpc': '2.0', 'method': 'call', 'params': {'value': 4}, 'id': 3})
    assert as_json(res) == {'jsonrpc': '2.0', 'id': 3, 'result': {'echo': 4}}
    assert client.post('/sim/json', data='x', content_type='text/plain').status_code == 400


def test_no_database_selected(client, sim_config):
    saved = sim_config['dbfilter'], sim_config['server_wide_modules']
    sim_config['dbfilter'] = '^no_database_matches_this$'
    try:
        assert client.get('/sim/ping').status_code == 404
        swm = sim_config._as_list('server_wide_modules') + ['sim_good']
        sim_config['server_wide_modules'] = swm if isinstance(saved[1], list) else ','.join(swm)
        res = client.get('/sim/ping')
        assert res.status_code == 200
        assert as_json(res) == {'db': None, 'uid': 'no-env', 'env_is_none': True}
    finally:
        sim_config['dbfilter'], sim_config['server_wide_modules'] = saved


def test_request_proxy_is_thread_local(client):
    seen = {}

    def probe():
        try:
            odoo.http.request.env  # noqa: B018
        except RuntimeError as e:
            seen['error'] = e
    t = threading.Thread(target=probe)
    t.start()
    t.join()
    assert isinstance(seen['error'], RuntimeError)
    data = as_json(client.get('/sim/thread'))
    assert data['in_request_uid'] is None and data['thread_error']


def test_replay_on_serialization_failure_drops_failed_postcommits(client, registry):
    from odoo.addons.sim_good.controllers import main
    main.ATTEMPTS['count'] = 0
    main.POSTCOMMITS.clear()
    res = client.post('/sim/bump?fail_until=2')
    assert res.status_code == 200 and as_json(res) == {'attempt': 3}
    assert [attempt for _pid, attempt in main.POSTCOMMITS] == [3]
    with registry.cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'sim_good.bumped'")
        assert cr.fetchone()[0] == '3'

    main.ATTEMPTS['count'] = 0
    main.POSTCOMMITS.clear()
    res = client.post('/sim/bump?fail_until=99')
    assert res.status_code == 500
    assert main.ATTEMPTS['count'] == 5 and main.POSTCOMMITS == []


@pytest.mark.skipif(release.SERIE_MAJOR >= 18, reason="17.0 behaviour; 18/19 in test_flavours")
def test_bearer_is_refused_on_17(client):
    assert client.get('/sim/bearer', headers={'Authorization': 'bearer x'}).status_code == 403
