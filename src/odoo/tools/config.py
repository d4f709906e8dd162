"""``odoo.tools.config``: a dict-like option store (odoo/tools/config.py).

Value types follow the flavour: on 17.0/18.0 ``db_name``, ``addons_path``
and ``server_wide_modules`` are comma separated strings; on 19.0 they are
lists (19.0 parses those options into lists).  Keys only the simulator
knows start with ``sim_``:

* ``sim_db_dsn``: PostgreSQL DSN without database name (e.g.
  ``postgresql://postgres@127.0.0.1:5432``); defaults to the
  ``ODOO_SIM_DB_DSN`` environment variable; empty means SQLite.
* ``sim_lock_timeout``: seconds a SQLite writer waits for a row/table lock
  before giving up with LockNotAvailable (PostgreSQL waits forever).
"""
import os
import tempfile

from .. import release

_BASE_ADDONS = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', 'addons'))


def _default_data_dir():
    # One directory per interpreter unless told otherwise: forked children
    # inherit the resolved value, separate interpreters must share it
    # explicitly (ODOO_SIM_DATA_DIR or config['data_dir']).
    path = os.environ.get('ODOO_SIM_DATA_DIR')
    if not path:
        path = tempfile.mkdtemp(prefix='odoo-sim-')
    return path


class configmanager:
    def __init__(self):
        as_list = release.SERIE_MAJOR >= 19
        self.options = {
            'admin_passwd': 'admin',
            'addons_path': [_BASE_ADDONS] if as_list else _BASE_ADDONS,
            'server_wide_modules': ['base', 'web'] if as_list else 'base,web',
            'data_dir': _default_data_dir(),
            'db_name': [] if as_list else False,
            'dbfilter': '',
            'list_db': True,
            'http_port': 8069,
            'http_interface': '',
            'proxy_mode': False,
            'init': {},
            'update': {},
            'without_demo': True,
            'test_enable': False,
            'db_template': 'template0',
            'limit_time_real_cron': -1,
            'max_cron_threads': 2,
            'sim_db_dsn': os.environ.get('ODOO_SIM_DB_DSN', ''),
            'sim_lock_timeout': 30.0,
        }

    def __getitem__(self, key):
        return self.options[key]

    def __setitem__(self, key, value):
        self.options[key] = value

    def __contains__(self, key):
        return key in self.options

    def get(self, key, default=None):
        return self.options.get(key, default)

    def pop(self, key, default=None):
        return self.options.pop(key, default)

    # helpers to read list-ish options whatever the flavour's type
    def _as_list(self, key):
        value = self.options.get(key) or []
        if isinstance(value, str):
            value = [v.strip() for v in value.split(',')]
        return [v for v in value if v]

    @property
    def addons_data_dir(self):
        return os.path.join(self['data_dir'], 'addons', release.series)

    @property
    def session_dir(self):
        return os.path.join(self['data_dir'], 'sessions')

    @property
    def filestore(self):
        return os.path.join(self['data_dir'], 'filestore')


config = configmanager()
