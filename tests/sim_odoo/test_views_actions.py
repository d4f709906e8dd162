"""List views and window actions per flavour: 17.0 says `tree`, 18.0/19.0 `list`, and each refuses
the other's list view (the type comes from the arch's root tag)."""
import pytest

from .conftest import FLAVOURS, run_flavour


@pytest.mark.parametrize('version', FLAVOURS)
def test_list_view_tag_and_action_defaults(version, tmp_path):
    out = run_flavour(version, """
        service_db.exp_create_database('v1')
        from odoo.modules.registry import Registry
        with Registry('v1').cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            View = env['ir.ui.view']
            loaded = {}
            for tag in ('tree', 'list'):
                try:
                    with cr.savepoint():
                        View.create({'name': tag, 'model': 'res.users',
                                     'arch': f'<{tag}><field name="login"/></{tag}>'})
                    loaded[tag] = 'ok'
                except Exception as e:
                    loaded[tag] = type(e).__name__
            action = env['ir.actions.act_window'].create({'name': 'Users', 'res_model': 'res.users'})
            try:
                with cr.savepoint():
                    env['ir.actions.act_window'].create({'name': 'x', 'res_model': 'no.such'})
                bad = 'accepted'
            except Exception as e:
                bad = type(e).__name__
            print(json.dumps({'loaded': loaded, 'view_mode': action.view_mode, 'bad': bad,
                              'types': [v for v, _l in View._fields['type'].selection]}))
    """, tmp_path)
    if version == '17.0':
        assert out['loaded'] == {'tree': 'ok', 'list': 'ValueError'}
        assert out['view_mode'] == 'tree,form' and 'tree' in out['types']
    else:
        assert out['loaded'] == {'tree': 'ValueError', 'list': 'ok'}
        assert out['view_mode'] == 'list,form' and 'list' in out['types']
    assert out['bad'] == 'ValidationError'
