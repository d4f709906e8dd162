"""ORM reads the MCP read tools use, as real Odoo 17/18/19 has them: _read_group (same signature
on the three), fields_get's selection, has_access only from 18.0, companies, module versions and
dependencies."""
import datetime

import pytest

from odoo.exceptions import AccessError

from .conftest import FLAVOURS, make_user, run_flavour


def test_read_group_groups_and_aggregates(env_factory):
    with env_factory() as env:
        Users = env['res.users']
        Users.create([{'name': 'A', 'login': 'a', 'share': True}, {'name': 'B', 'login': 'b'}])
        share = Users._read_group([], ['share'], ['__count', 'id:count', 'id:max'])
        assert [row[0] for row in share] == [False, True]  # booleans: False first
        assert all(row[1] == row[2] for row in share)
        company, count = Users._read_group([], ['company_id'], ['__count'])[0]
        assert company._name == 'res.company' and company.name == 'My Company' and count >= 3
        assert Users._read_group([('login', '=', 'nobody')], [], ['__count', 'id:sum']) == [(0, False)]
        assert Users._read_group([('login', '=', 'nobody')], ['share'], ['__count']) == []
        month = Users._read_group([('login', '=', 'a')], ['create_date:month'], ['__count'])
        assert month[0][0] == datetime.datetime.combine(datetime.date.today().replace(day=1),
                                                        datetime.time())
        with pytest.raises(ValueError, match='Invalid field'):
            Users._read_group([], ['nope'], ['__count'])
        with pytest.raises(ValueError, match='Aggregate method is mandatory'):
            Users._read_group([], ['share'], ['id'])
        with pytest.raises(ValueError, match='Invalid aggregate method'):
            Users._read_group([], ['share'], ['id:median'])


def test_read_group_checks_read_access(registry, env_factory):
    uid = make_user(registry, 'plain')
    with env_factory(uid) as env:
        with pytest.raises(AccessError):
            env['ir.config_parameter']._read_group([], ['key'], ['__count'])


def test_fields_get_selection_and_company(env_factory):
    with env_factory() as env:
        state = env['ir.module.module'].fields_get(['state'], ['selection'])['state']
        assert ['installed', 'Installed'] in state['selection']
        assert env['res.users'].fields_get(['company_id'])['company_id']['relation'] == 'res.company'
        assert env.company == env.ref('base.main_company') == env.user.company_id
        assert env(context={'allowed_company_ids': [env.company.id]}).company == env.company


def test_module_versions_and_dependencies(env_factory):
    with env_factory() as env:
        module = env['ir.module.module'].search([('name', '=', 'sim_good')])
        assert module.installed_version == module.latest_version  # disk == database
        assert [(dep.name, dep.state) for dep in module.dependencies_id] == [('base', 'installed')]


@pytest.mark.parametrize('version', FLAVOURS)
def test_has_access_exists_from_18(version, tmp_path):
    out = run_flavour(version, """
        registry = service_db.create_database('ha', modules=[])
        with registry.cursor() as cr:
            model = api.Environment(cr, 2, {})['res.users']
            print(json.dumps([hasattr(model, 'has_access'),
                              model.check_access_rights('read', raise_exception=False)]))
    """, tmp_path)
    assert out == [version != '17.0', True]
