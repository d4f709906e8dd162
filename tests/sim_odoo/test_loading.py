"""Module install: manifest, data files, validation, hooks, atomicity."""
import pytest

import odoo.addons
from odoo import api, release
from odoo.exceptions import AccessError, UserError
from odoo.service import db as service_db
from odoo.tools.convert import ParseError

from .conftest import ADDONS, make_user


def _installed(registry):
    with registry.cursor() as cr:
        cr.execute("SELECT name, latest_version FROM ir_module_module WHERE state = 'installed'")
        return dict(cr.fetchall())


def test_install_loads_data_and_runs_hooks(registry):
    assert str(ADDONS) in odoo.addons.__path__
    assert _installed(registry) == {
        'base': f'{release.major_version}.1.3',
        'sim_good': f'{release.major_version}.1.0.0',
    }
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        assert env['ir.config_parameter'].get_param('sim_good.installed') == 'yes'   # post_init_hook
        cron = env.ref('sim_good.ir_cron_heartbeat')
        assert cron.model_id == env.ref('sim_good.model_sim_heartbeat')
        assert cron.user_id == env.ref('base.user_admin')
        view = env.ref('sim_good.res_config_settings_view_form')
        assert view.inherit_id == env.ref('base.res_config_settings_view_form')
        assert env['ir.module.module'].search_read([('state', '=', 'installed'), ('name', '=', 'sim_good')],
                                                   ['name', 'state'])[0]['state'] == 'installed'


def test_access_csv_is_enforced(registry):
    uid = make_user(registry, 'reader')
    with registry.cursor() as cr:
        assert api.Environment(cr, 2, {})['sim.heartbeat'].search([]) is not None
        with pytest.raises(AccessError):
            api.Environment(cr, uid, {})['sim.heartbeat'].search([])


def _install_fails(registry, module, exc_type, match):
    with pytest.raises(exc_type, match=match):
        service_db.install_modules(registry.db_name, [module])
    reg = odoo.modules.registry.Registry(registry.db_name)
    assert module not in _installed(reg)
    return reg


def test_unknown_field_in_xml_record_fails_and_rolls_back(registry):
    reg = _install_fails(registry, 'sim_bad_field', ParseError,
                         "Invalid field 'no_such_field' on model 'ir.config_parameter'")
    with reg.cursor() as cr:
        cr.execute("SELECT count(*) FROM ir_config_parameter WHERE key LIKE %s", ['sim_bad_field.%'])
        assert cr.fetchone()[0] == 0          # the valid record of the same file is gone too


def test_view_with_unknown_field_fails(registry):
    _install_fails(registry, 'sim_bad_view', ParseError,
                   'Field "no_such_setting" does not exist in model "res.config.settings"')


def test_dependencies_are_checked(registry):
    _install_fails(registry, 'sim_missing_dep', UserError, 'sim_does_not_exist')
    _install_fails(registry, 'sim_ext_dep', UserError, 'external dependency is not met')


def test_registry_new_with_config_init(dbname, sim_config):
    service_db.exp_create_database(dbname)
    sim_config['init'] = {'sim_good': 1}
    registry = odoo.modules.registry.Registry.new(dbname, update_module=True)
    assert sim_config['init'] == {}
    assert 'sim.heartbeat' in registry and registry.ready
    assert odoo.modules.registry.Registry(dbname) is registry


def test_unknown_database():
    import psycopg2
    with pytest.raises(psycopg2.OperationalError):
        odoo.modules.registry.Registry('simtest_does_not_exist')
