"""ORM behaviour the addon relies on, including the failures."""
import psycopg2
import pytest

from odoo import api
from odoo.exceptions import AccessError

from .conftest import make_user


def test_get_param_requires_system_group_or_sudo(registry, env_factory):
    uid = make_user(registry, 'plain')
    with env_factory(uid) as env:
        assert not env.user.has_group('base.group_system')
        with pytest.raises(AccessError):
            env['ir.config_parameter'].get_param('web.base.url')
        with pytest.raises(AccessError):
            env['ir.config_parameter'].set_param('x', '1')
        assert env['ir.config_parameter'].sudo().get_param('web.base.url') == 'http://localhost:8069'
    with env_factory(2) as env:  # admin is in base.group_system
        assert env.user.has_group('base.group_system') and not env.su
        assert env['ir.config_parameter'].get_param('web.base.url')


def test_env_without_user_has_no_rights(registry):
    with registry.cursor() as cr:
        env = api.Environment(cr, None, {})
        assert env.uid is None and not env.su and not env.user
        with pytest.raises(AccessError):
            env['ir.config_parameter'].get_param('web.base.url')
        assert env['ir.config_parameter'].sudo().get_param('web.base.url')


def test_invalid_field_and_singleton(env_factory):
    with env_factory() as env:
        with pytest.raises(ValueError, match="Invalid field 'nope' on model 'sim.heartbeat'"):
            env['sim.heartbeat'].create({'nope': 1})
        recs = env['sim.heartbeat'].create([{'name': 'a'}, {'name': 'b', 'count': 3}])
        assert len(recs) == 2 and recs.ids == sorted(recs.ids)
        with pytest.raises(ValueError, match='Expected singleton'):
            recs.name  # noqa: B018
        assert env['sim.heartbeat'].search_read([('name', 'in', ['b'])], ['count']) == [
            {'id': recs[1].id, 'count': 3}]
        assert env['sim.heartbeat'].search([('name', 'ilike', 'A')]) == recs[0]
        recs.unlink()
        assert not env['sim.heartbeat'].search([])


def test_required_field_is_not_null_in_database(env_factory):
    with env_factory() as env:
        with pytest.raises(psycopg2.errors.NotNullViolation):
            env['ir.config_parameter'].create({'key': 'k'})
        env.cr.rollback()


def test_cache_is_stale_after_raw_sql_until_invalidated(env_factory):
    with env_factory() as env:
        rec = env['sim.heartbeat'].create({'name': 'cached'})
        assert rec.name == 'cached'
        env.cr.execute("UPDATE sim_heartbeat SET name = 'raw' WHERE id = %s", [rec.id])
        assert rec.name == 'cached'     # like real Odoo: the ORM cache wins
        rec.invalidate_recordset()
        assert rec.name == 'raw'


def test_writes_are_delayed_until_flush(env_factory):
    with env_factory() as env:
        rec = env['sim.heartbeat'].create({'name': 'a'})
        rec.name = 'b'
        env.cr.execute("SELECT name FROM sim_heartbeat WHERE id = %s", [rec.id])
        assert env.cr.fetchone()[0] == 'a'
        env.flush_all()
        env.cr.execute("SELECT name FROM sim_heartbeat WHERE id = %s", [rec.id])
        assert env.cr.fetchone()[0] == 'b'


def test_model_extension_super_chain(env_factory):
    trace = []
    with env_factory(context={'sim_trace': trace}) as env:
        env['ir.config_parameter'].set_param('chain.key', 'v')
        assert trace == ['chain.key']
        assert env['ir.config_parameter'].get_param('chain.key') == 'v'
        assert 'sim_url' in env['res.config.settings']._fields


def test_settings_config_parameter_and_admin_only(registry, env_factory):
    uid = make_user(registry, 'notadmin')
    with env_factory(uid) as env:
        with pytest.raises(AccessError):
            env['res.config.settings'].create({'sim_url': 'http://a'})
    with env_factory(2) as env:
        settings = env['res.config.settings'].create({'sim_url': ' http://a ', 'sim_limit': 12})
        settings.execute()
        ICP = env['ir.config_parameter']
        assert ICP.get_param('sim_good.url') == 'http://a'
        assert ICP.get_param('sim_good.limit') == '12'
        assert env['res.config.settings'].default_get(['sim_limit']) == {'sim_limit': 12}
        # Odoo stores an Integer 0 as "no parameter"
        env['res.config.settings'].create({'sim_limit': 0}).execute()
        assert ICP.get_param('sim_good.limit') is False


def test_env_ref_and_xmlids(env_factory):
    with env_factory() as env:
        assert env.ref('base.user_admin').id == 2
        assert env.ref('base.user_root').id == 1
        assert env.ref('sim_good.model_sim_heartbeat').model == 'sim.heartbeat'
        assert env.ref('sim_good.nope', raise_if_not_found=False) is None
        with pytest.raises(ValueError):
            env.ref('sim_good.nope')


def test_a_record_converts_to_its_id_as_in_odoo(env_factory):
    """Real Odoo's BaseModel.__int__: env(user=record), with_user(record) take records."""
    with env_factory() as env:
        admin = env.ref("base.user_admin")
        assert int(admin) == admin.id
        assert int(env["res.users"]) == 0
        assert env["res.users"].with_user(admin).env.uid == admin.id
