"""The per-process get_param cache: stale until cleared, cleared by
set_param locally, and by the database signal in other processes."""
import multiprocessing

from odoo import api

CTX = multiprocessing.get_context('fork')


def _get(registry, key):
    with registry.cursor() as cr:
        return api.Environment(cr, 1, {})['ir.config_parameter'].get_param(key)


def _raw_set(registry, key, value):
    with registry.cursor() as cr:
        cr.execute("UPDATE ir_config_parameter SET value = %s WHERE key = %s", [value, key])


def test_cache_is_stale_until_cleared(registry):
    key = 'web.base.url'
    assert _get(registry, key) == 'http://localhost:8069'
    _raw_set(registry, key, 'http://raw')
    assert _get(registry, key) == 'http://localhost:8069'   # stale, like real Odoo
    registry.clear_cache()
    from odoo import release
    if release.SERIE_MAJOR >= 19:
        # 19.0 keeps _get_param in the 'stable' cache, untouched by 'default'
        assert _get(registry, key) == 'http://localhost:8069'
        registry.clear_cache('stable')
    assert _get(registry, key) == 'http://raw'


def test_set_param_clears_the_cache_of_this_process(registry):
    assert _get(registry, 'web.base.url') == 'http://localhost:8069'
    with registry.cursor() as cr:
        # the env must outlive the commit: a collected env's writes are dropped, as in Odoo
        env = api.Environment(cr, 1, {})
        env['ir.config_parameter'].set_param('web.base.url', 'http://set')
    assert _get(registry, 'web.base.url') == 'http://set'


def test_other_process_is_invalidated_through_the_database(registry):
    key = 'web.base.url'
    primed = CTX.Event()
    changed = CTX.Event()
    queue = CTX.Queue()

    def worker():
        before = _get(registry, key)
        primed.set()
        changed.wait(10)
        stale = _get(registry, key)         # raw change, no signal: stale
        changed.clear()
        primed.set()
        changed.wait(10)
        fresh = _get(registry, key)         # set_param + signal_changes
        queue.put((before, stale, fresh))

    proc = CTX.Process(target=worker)
    proc.start()
    assert primed.wait(10)
    primed.clear()
    _raw_set(registry, key, 'http://raw')
    changed.set()
    assert primed.wait(10)
    with registry.manage_changes():
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            env['ir.config_parameter'].set_param(key, 'http://signaled')
    changed.set()
    before, stale, fresh = queue.get(timeout=20)
    proc.join(10)
    assert before == 'http://localhost:8069'
    assert stale == 'http://localhost:8069'
    assert fresh == 'http://signaled'


def test_clear_cache_names(registry):
    from odoo import release
    registry.clear_cache()
    registry.clear_cache('default')
    if release.SERIE_MAJOR >= 19:
        registry.clear_cache('stable')
    else:
        import pytest
        with pytest.raises(KeyError):
            registry.clear_cache('stable')
