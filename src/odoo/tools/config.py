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

A configuration file is read by ``config.parse_config(['-c', path])``, as
each series reads it (nothing is read at import):

* 17.0/18.0 (``load()``): ``config.rcfile`` is the file; every option of
  ``[options]`` is stored, known or not, silently ('True'/'False' become
  booleans, known integer options are cast); every other section goes to
  ``config.misc[section]`` (``config.get_misc(section, key, default)``).
* 19.0 (``_load_file_options``): ``config['config']`` is the file
  (``config.rcfile`` still answers, with a DeprecationWarning); an option
  of ``[options]`` that 19.0 does not know is stored as-is with the WARNING
  "unknown option %r in the config file at %s, option stored as-is, without
  parsing" (logger ``odoo.tools.config``); other sections are ignored (there
  is no ``config.misc``).  Options come from layers, runtime (``config[k] =
  v``) over command line over file over defaults, like 19.0's ChainMap.
"""
import collections
import configparser
import logging
import os
import tempfile
import warnings

from .. import release

_logger = logging.getLogger(__name__)

_BASE_ADDONS = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', 'addons'))


def _default_data_dir():
    # One directory per interpreter unless told otherwise: forked children
    # inherit the resolved value, separate interpreters must share it
    # explicitly (ODOO_SIM_DATA_DIR or config['data_dir']).
    path = os.environ.get('ODOO_SIM_DATA_DIR')
    if not path:
        path = tempfile.mkdtemp(prefix='odoo-sim-')
    return path


# Every option 19.0's parser knows (odoo/tools/config.py, _build_cli): a
# config-file option outside of this set draws its "unknown option" warning.
_KNOWN_OPTIONS_19 = frozenset("""
    addons_path admin_passwd bin_path config csv_internal_sep data_dir db_app_name db_host
    db_maxconn db_maxconn_gevent db_name db_password db_port db_replica_host db_replica_port
    db_sslmode db_template db_user dbfilter default_productivity_apps dev_mode email_from
    from_filter geoip_city_db geoip_country_db gevent_port http_enable http_interface http_port
    import_file_maxbytes import_file_timeout import_partial import_url_regex init
    limit_memory_hard limit_memory_hard_gevent limit_memory_soft limit_memory_soft_gevent
    limit_request limit_time_cpu limit_time_real limit_time_real_cron limit_time_worker_cron
    list_db load_language log_db log_db_level log_handler log_level logfile max_cron_threads
    osv_memory_count_limit overwrite_existing_translations pg_path pidfile pre_upgrade_scripts
    proxy_access_token proxy_mode publisher_warranty_url reinit reportgz save screencasts
    screenshots server_wide_modules skip_auto_install smtp_password smtp_port smtp_server
    smtp_ssl smtp_ssl_certificate_filename smtp_ssl_private_key_filename smtp_user
    stop_after_init syslog test_enable test_file test_tags transient_age_limit unaccent update
    upgrade_path websocket_keep_alive_timeout websocket_rate_limit_burst
    websocket_rate_limit_delay with_demo workers x_sendfile
""".split())
# 19.0: options of the command line only (file_loadable=False), skipped in a file
_NOT_FILE_LOADABLE_19 = frozenset(
    'config save init update reinit import_partial test_file test_enable test_tags stop_after_init'.split())
_ALIASES_19 = {
    "import_image_maxbytes": "import_file_maxbytes",
    "import_image_regex": "import_url_regex",
    "import_image_timeout": "import_file_timeout",
}
_BOOL_OPTIONS = frozenset(
    'default_productivity_apps reportgz skip_auto_install http_enable proxy_mode x_sendfile '
    'test_enable syslog smtp_ssl overwrite_existing_translations list_db stop_after_init '
    'unaccent with_demo without_demo'.split())
_INT_OPTIONS = frozenset(
    'import_file_maxbytes import_file_timeout websocket_keep_alive_timeout '
    'websocket_rate_limit_burst http_port gevent_port smtp_port db_port db_replica_port '
    'db_maxconn db_maxconn_gevent osv_memory_count_limit max_cron_threads limit_time_worker_cron '
    'workers limit_memory_soft limit_memory_soft_gevent limit_memory_hard limit_memory_hard_gevent '
    'limit_time_cpu limit_time_real limit_time_real_cron limit_request'.split())
_COMMA_OPTIONS_19 = frozenset('init update reinit addons_path server_wide_modules db_name dev_mode '
                              'upgrade_path pre_upgrade_scripts'.split())


def _default_rcfile():
    return os.path.abspath(os.path.expanduser('~/.odoorc'))


class configmanager:
    def __init__(self):
        as_list = release.SERIE_MAJOR >= 19
        defaults = {
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
            'db_replica_host': None if as_list else False,
            'dev_mode': [],
            'sim_db_dsn': os.environ.get('ODOO_SIM_DB_DSN', ''),
            'sim_lock_timeout': 30.0,
        }
        if as_list:
            self._default_options = dict(defaults, config=_default_rcfile())
            self._file_options = {}
            self._cli_options = {}
            self._runtime_options = {}
            self.options = collections.ChainMap(
                self._runtime_options, self._cli_options, self._file_options, self._default_options)
        else:
            self.options = defaults
            self.misc = {}
            self.rcfile = _default_rcfile()

    # ------------------------------------------------------------------
    # the configuration file
    # ------------------------------------------------------------------
    def parse_config(self, args=None, **kwargs):
        """Only ``-c PATH`` / ``--config PATH`` / ``--config=PATH`` are understood."""
        args = list(args or [])
        path = None
        while args:
            arg = args.pop(0)
            if arg in ('-c', '--config'):
                path = args.pop(0)
            elif arg.startswith('--config='):
                path = arg.split('=', 1)[1]
            else:
                raise ValueError(f"the simulated Odoo's parse_config does not know {arg!r}")
        if path is not None and not os.access(path, os.R_OK):
            raise SystemExit(f"the config file {path!r} selected with -c/--config doesn't exist or is "
                             "not readable, use -s/--save if you want to generate it")
        if release.SERIE_MAJOR >= 19:
            if path is not None:
                self._cli_options['config'] = os.path.abspath(os.path.expanduser(path))
            self._load_file_options(self['config'])
        else:
            if path is not None:
                self.rcfile = os.path.abspath(path)
            self.load()
            for name in _INT_OPTIONS:
                value = self.options.get(name)
                if isinstance(value, str):
                    self.options[name] = int(value)

    if release.SERIE_MAJOR >= 19:
        @property
        def rcfile(self):
            warnings.warn("Since 19.0, use odoo.tools.config['config'] instead", DeprecationWarning,
                          stacklevel=2)
            return self['config']

        @rcfile.setter
        def rcfile(self, rcfile):
            warnings.warn(f"Since 19.0, use odoo.tools.config['config'] = {rcfile!r} instead",
                          DeprecationWarning, stacklevel=2)
            self._runtime_options['config'] = rcfile

        def load(self):
            warnings.warn("Since 19.0, use config._load_file_options instead", DeprecationWarning,
                          stacklevel=2)
            self._load_file_options(self['config'])

        def _parse(self, name, value):
            if name in _BOOL_OPTIONS:
                return value.lower() in ('1', 'true', 't', 'yes', 'y', 'on')
            if name in _INT_OPTIONS:
                return int(value)
            if name in _COMMA_OPTIONS_19:
                return [v.strip() for v in value.split(',') if v.strip()]
            return value

        def _load_file_options(self, rcfile):
            self._file_options.clear()
            p = configparser.RawConfigParser()
            try:
                p.read([rcfile])
                for (name, value) in p.items('options'):
                    if name == 'without_demo':
                        name = 'with_demo'
                        value = str(value.lower() in ('false', '0', 'no', 'none', ''))
                    if name not in _KNOWN_OPTIONS_19:
                        if name not in _ALIASES_19:
                            _logger.warning(
                                "unknown option %r in the config file at "
                                "%s, option stored as-is, without parsing",
                                name, self['config'],
                            )
                        self._file_options[name] = value
                        continue
                    if name in _NOT_FILE_LOADABLE_19:
                        continue
                    if value in ('False', 'false') and name not in _BOOL_OPTIONS:
                        _logger.warning("option %s reads %r in the config file at %s but isn't a "
                                        "boolean option, skip", name, value, self['config'])
                        continue
                    self._file_options[name] = self._parse(name, value)
            except OSError:
                pass
            except configparser.NoSectionError:
                pass
    else:
        def load(self):
            outdated_options_map = {
                'xmlrpc_port': 'http_port',
                'xmlrpc_interface': 'http_interface',
                'xmlrpc': 'http_enable',
            }
            p = configparser.RawConfigParser()
            try:
                p.read([self.rcfile])
                for (name, value) in p.items('options'):
                    name = outdated_options_map.get(name, name)
                    if value in ('True', 'true'):
                        value = True
                    if value in ('False', 'false'):
                        value = False
                    self.options[name] = value
                # the other sections, as well
                for sec in p.sections():
                    if sec == 'options':
                        continue
                    self.misc.setdefault(sec, {})
                    for (name, value) in p.items(sec):
                        if value in ('True', 'true'):
                            value = True
                        if value in ('False', 'false'):
                            value = False
                        self.misc[sec][name] = value
            except OSError:
                pass
            except configparser.NoSectionError:
                pass

        def get_misc(self, sect, key, default=None):
            return self.misc.get(sect, {}).get(key, default)

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
