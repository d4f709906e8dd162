"""The model registry of a database (odoo/modules/registry.py).

``Registry(db)`` returns this process' registry of ``db``, loading it if
needed.  It owns the ormcache containers, which are therefore per process.
Invalidations are signaled between processes through the database, like
real Odoo: PostgreSQL sequences ``base_registry_signaling`` and
``base_cache_signaling_<cache>`` on PostgreSQL; on SQLite a table
``sim_signaling(name, last_value)`` holding the same names, incremented
outside of any transaction.  ``check_signaling()`` (start of each request,
cron job and new cursor environment) clears the local caches whose counter
moved, or reloads the registry; ``signal_changes()`` (after a successful
request, cron job, module install, ``manage_changes()``) publishes the local
invalidations.

18.0/19.0: ``signal_changes()`` on a registry that is not ready (being
loaded: install, update) logs a WARNING and returns, signaling nothing (17.0
signals).  ``cursor(readonly=True)`` gives a read-only cursor when the
registry has a read-only pool: 18.0 when ``db_replica_host`` is not False or
``test_enable`` is set, 19.0 when ``db_replica_host`` or ``test_enable`` is
set or ``dev_mode`` has 'replica' (checked when the registry is created);
otherwise a read/write cursor, as there.

Odoo's test mode (what ``HttpCase`` sets up): 17.0/18.0
``enter_test_mode(cr)`` (18.0: ``enter_test_mode(cr, test_readonly_enabled=True)``)
makes ``cursor()`` return an ``odoo.sql_db.TestCursor`` over the test's cursor
``cr``, serialised by ``test_lock``; ``Registry._lock`` becomes a dummy lock,
signaling is off (``in_test_mode()``); ``leave_test_mode()`` undoes it.  18.0
makes a TestCursor read-only only if ``test_readonly_enabled`` (else it logs
that it ignores the flag).  19.0 has none of these methods (no
``in_test_mode``, no ``test_cr``): ``odoo.tests.common.BaseCase`` patches
``registry.cursor`` (``odoo.tests.test_cursor.TestCursor``),
``Registry._lock``, ``setup_signaling`` and ``check_signaling`` instead.
"""
import logging
import threading
import time
from collections.abc import Mapping
from contextlib import contextmanager

import psycopg2

from .. import release, sql_db
from ..tools import config

_logger = logging.getLogger(__name__)

_REGISTRY_CACHES = {
    'default': 8192,
    'assets': 512,
    'templates': 1024,
    'routing': 1024,
    'routing.rewrites': 8192,
    'templates.cached_values': 2048,
}
_CACHES_BY_KEY = {
    'default': ('default', 'templates.cached_values'),
    'assets': ('assets', 'templates.cached_values'),
    'templates': ('templates', 'templates.cached_values'),
    'routing': ('routing', 'routing.rewrites', 'templates.cached_values'),
}
if release.SERIE_MAJOR >= 18:
    _REGISTRY_CACHES['groups'] = 8
    _CACHES_BY_KEY['groups'] = ('groups', 'templates.cached_values')
if release.SERIE_MAJOR >= 19:
    # 19.0 moved rarely-changing values (e.g. ir.config_parameter) here
    _REGISTRY_CACHES['stable'] = 1024
    _CACHES_BY_KEY['stable'] = ('stable', 'templates.cached_values')


class LRU(dict):
    def __init__(self, count):
        super().__init__()
        self.count = count

    def __setitem__(self, key, value):
        if key not in self and len(self) >= self.count:
            del self[next(iter(self))]
        super().__setitem__(key, value)


_REPLICA_RETRY_TIME = 20 * 60  # 20 minutes


def _sequence_names():
    return ('base_registry_signaling', *(f'base_cache_signaling_{name}' for name in _CACHES_BY_KEY))


class DummyRLock:
    """Dummy reentrant lock, used while running tests (odoo/modules/registry.py)."""

    def acquire(self):
        pass

    def release(self):
        pass

    def __enter__(self):
        self.acquire()

    def __exit__(self, type, value, traceback):
        self.release()


class Registry(Mapping):
    _lock = threading.RLock()
    _saved_lock = None
    registries = {}     # per process (inherited, then independent, across fork)

    def __new__(cls, db_name):
        with cls._lock:
            try:
                return cls.registries[db_name]
            except KeyError:
                return cls.new(db_name)
            finally:
                threading.current_thread().dbname = db_name

    @classmethod
    def new(cls, db_name, force_demo=False, status=None, update_module=False):
        from . import loading
        with cls._lock:
            registry = object.__new__(cls)
            registry.init(db_name)
            cls.delete(db_name)
            cls.registries[db_name] = registry
            try:
                registry.setup_signaling()
                loading.load_modules(registry, update_module=update_module)
            except Exception:
                _logger.error('Failed to load registry', exc_info=True)
                cls.registries.pop(db_name, None)
                raise
            registry = cls.registries[db_name]
            registry._init = False
            registry.ready = True
            registry.registry_invalidated = bool(update_module)
            if update_module:
                registry.signal_changes()
            return registry

    def init(self, db_name):
        self.models = {}
        self._init = True
        self._init_modules = set()
        self.loaded = False
        self.ready = False
        self.db_name = db_name
        if release.SERIE_MAJOR >= 18:
            self._db = sql_db.db_connect(db_name, readonly=False)
            self._db_readonly = None
            self._db_readonly_failed_time = None
            if release.SERIE_MAJOR >= 19:
                use_replica = bool(config['db_replica_host'] or config['test_enable']
                                   or 'replica' in config['dev_mode'])
            else:
                use_replica = config['db_replica_host'] is not False or bool(config['test_enable'])
            if use_replica:
                self._db_readonly = sql_db.db_connect(db_name, readonly=True)
        else:
            self._db = sql_db.db_connect(db_name)
        if release.SERIE_MAJOR < 19:
            self.test_cr = None
            self.test_lock = None
        self._invalidation_flags = threading.local()
        self.__caches = {name: LRU(size) for name, size in _REGISTRY_CACHES.items()}
        self.registry_sequence = None
        self.cache_sequences = {}
        self.routing_map = None
        self.pid = None

    @classmethod
    def delete(cls, db_name):
        with cls._lock:
            cls.registries.pop(db_name, None)

    @classmethod
    def delete_all(cls):
        with cls._lock:
            cls.registries.clear()

    # Mapping
    def __len__(self):
        return len(self.models)

    def __iter__(self):
        return iter(self.models)

    def __getitem__(self, model_name):
        return self.models[model_name]

    def __contains__(self, model_name):
        return model_name in self.models

    def __call__(self, model_name):
        return self.models[model_name]

    @property
    def dbname(self):
        return self.db_name

    if release.SERIE_MAJOR >= 18:
        def cursor(self, /, readonly=False):
            """A new cursor; ``readonly=True`` asks for one on the read-only
            pool, and gets a read/write one when there is none."""
            if release.SERIE_MAJOR == 18 and self.test_cr is not None:
                # in test mode, a proxy over the test's own cursor
                if readonly and not self.test_readonly_enabled:
                    _logger.info('Explicitly ignoring readonly flag when generating a cursor')
                from .module import current_test
                return sql_db.TestCursor(self.test_cr, self.test_lock,
                                         readonly and self.test_readonly_enabled, current_test=current_test)
            if readonly and self._db_readonly is not None:
                if (self._db_readonly_failed_time is None
                        or time.monotonic() > self._db_readonly_failed_time + _REPLICA_RETRY_TIME):
                    try:
                        cr = self._db_readonly.cursor()
                        self._db_readonly_failed_time = None
                        return cr
                    except psycopg2.OperationalError:
                        self._db_readonly_failed_time = time.monotonic()
                        _logger.warning("Failed to open a readonly cursor, falling back to read-write "
                                        "cursor for %dmin %dsec", *divmod(_REPLICA_RETRY_TIME, 60))
                threading.current_thread().cursor_mode = 'ro->rw'
            return self._db.cursor()
    else:
        def cursor(self):
            if self.test_cr is not None:
                # in test mode, a proxy over the test's own cursor
                return sql_db.TestCursor(self.test_cr, self.test_lock)
            return self._db.cursor()

    if release.SERIE_MAJOR < 19:
        def in_test_mode(self):
            return self.test_cr is not None

        if release.SERIE_MAJOR == 18:
            def enter_test_mode(self, cr, test_readonly_enabled=True):
                """One cursor serves several requests (HttpCase)."""
                assert self.test_cr is None
                self.test_cr = cr
                self.test_readonly_enabled = test_readonly_enabled
                self.test_lock = threading.RLock()
                assert Registry._saved_lock is None
                Registry._saved_lock = Registry._lock
                Registry._lock = DummyRLock()

            def leave_test_mode(self):
                assert self.test_cr is not None
                self.test_cr = None
                del self.test_readonly_enabled
                del self.test_lock
                assert Registry._saved_lock is not None
                Registry._lock = Registry._saved_lock
                Registry._saved_lock = None
        else:
            def enter_test_mode(self, cr):
                """One cursor serves several requests (HttpCase)."""
                assert self.test_cr is None
                self.test_cr = cr
                self.test_lock = threading.RLock()
                assert Registry._saved_lock is None
                Registry._saved_lock = Registry._lock
                Registry._lock = DummyRLock()

            def leave_test_mode(self):
                assert self.test_cr is not None
                self.test_cr = None
                self.test_lock = None
                assert Registry._saved_lock is not None
                Registry._lock = Registry._saved_lock
                Registry._saved_lock = None

    def _sim_in_test_mode(self):
        """The simulator's own question (19.0 has no ``in_test_mode``): are this
        registry's cursors TestCursors?  On 19.0 the test framework patched
        ``cursor`` on the instance."""
        if release.SERIE_MAJOR >= 19:
            return 'cursor' in vars(self)
        return self.test_cr is not None

    # ------------------------------------------------------------------
    # ormcache containers
    # ------------------------------------------------------------------
    def clear_cache(self, *cache_names):
        cache_names = cache_names or ('default',)
        assert not any('.' in name for name in cache_names)
        for cache_name in cache_names:
            for cache in _CACHES_BY_KEY[cache_name]:
                self.__caches[cache].clear()
            self.cache_invalidated.add(cache_name)

    def clear_all_caches(self):
        for cache_name, caches in _CACHES_BY_KEY.items():
            for cache in caches:
                self.__caches[cache].clear()
            self.cache_invalidated.add(cache_name)

    @property
    def registry_invalidated(self):
        return getattr(self._invalidation_flags, 'registry', False)

    @registry_invalidated.setter
    def registry_invalidated(self, value):
        self._invalidation_flags.registry = value

    @property
    def cache_invalidated(self):
        try:
            return self._invalidation_flags.cache
        except AttributeError:
            names = self._invalidation_flags.cache = set()
            return names

    # ------------------------------------------------------------------
    # inter-process signaling
    # ------------------------------------------------------------------
    def setup_signaling(self):
        names = _sequence_names()
        if self._db.backend == 'postgresql':
            rows = sql_db.autocommit_execute(
                self.db_name,
                "SELECT sequence_name FROM information_schema.sequences WHERE sequence_name IN %s",
                [names])
            existing = {row[0] for row in rows}
            for name in names:
                if name not in existing:
                    sql_db.autocommit_execute(
                        self.db_name, f'CREATE SEQUENCE IF NOT EXISTS "{name}" INCREMENT BY 1 START WITH 1')
                    sql_db.autocommit_execute(self.db_name, "SELECT nextval(%s)", [name])
        else:
            sql_db.autocommit_execute(
                self.db_name,
                'CREATE TABLE IF NOT EXISTS sim_signaling '
                '(name VARCHAR PRIMARY KEY, last_value INTEGER NOT NULL)')
            for name in names:
                sql_db.autocommit_execute(
                    self.db_name,
                    'INSERT OR IGNORE INTO sim_signaling (name, last_value) VALUES (%s, 1)', [name])
        self.registry_sequence, cache_sequences = self.get_sequences()
        self.cache_sequences.update(cache_sequences)

    def get_sequences(self):
        if self._db.backend == 'postgresql':
            names = _sequence_names()
            query = 'SELECT {} FROM {}'.format(
                ', '.join(f'"{n}".last_value' for n in names), ', '.join(f'"{n}"' for n in names))
            values = dict(zip(names, sql_db.autocommit_execute(self.db_name, query)[0], strict=False))
        else:
            rows = sql_db.autocommit_execute(self.db_name, 'SELECT name, last_value FROM sim_signaling')
            values = dict(rows)
        registry_sequence = values['base_registry_signaling']
        caches = {name: values[f'base_cache_signaling_{name}'] for name in _CACHES_BY_KEY}
        return registry_sequence, caches

    def _nextval(self, name):
        if self._db.backend == 'postgresql':
            return sql_db.autocommit_execute(self.db_name, "SELECT nextval(%s)", [name])[0][0]
        return sql_db.autocommit_execute(
            self.db_name,
            'UPDATE sim_signaling SET last_value = last_value + 1 WHERE name = %s RETURNING last_value',
            [name])[0][0]

    def check_signaling(self):
        if self._sim_in_test_mode():
            return self
        registry_sequence, cache_sequences = self.get_sequences()
        if self.registry_sequence != registry_sequence:
            _logger.info("Reloading the model registry after database signaling.")
            registry = Registry.new(self.db_name)
            registry.registry_sequence = registry_sequence
            return registry
        invalidated = []
        for cache_name, sequence in list(self.cache_sequences.items()):
            expected = cache_sequences[cache_name]
            if sequence != expected:
                for cache in _CACHES_BY_KEY[cache_name]:
                    if cache not in invalidated:
                        invalidated.append(cache)
                        self.__caches[cache].clear()
                self.cache_sequences[cache_name] = expected
        if invalidated:
            _logger.info("Invalidating caches after database signaling: %s", sorted(invalidated))
        return self

    def signal_changes(self):
        if release.SERIE_MAJOR >= 18 and not self.ready:
            _logger.warning('Calling signal_changes when registry is not ready is not suported')
            return
        if self._sim_in_test_mode():
            # real Odoo signals through the test cursor: inside the test's
            # transaction, never seen by another process
            self.registry_invalidated = False
            self.cache_invalidated.clear()
            return
        if self.registry_invalidated:
            _logger.info("Registry changed, signaling through the database")
            self.registry_sequence = self._nextval('base_registry_signaling')
        elif self.cache_invalidated:
            _logger.info("Caches invalidated, signaling through the database: %s",
                         sorted(self.cache_invalidated))
            for cache_name in self.cache_invalidated:
                self.cache_sequences[cache_name] = self._nextval(f'base_cache_signaling_{cache_name}')
        self.registry_invalidated = False
        self.cache_invalidated.clear()

    def reset_changes(self):
        if self.registry_invalidated:
            self.registry_invalidated = False
        if self.cache_invalidated:
            for cache_name in self.cache_invalidated:
                for cache in _CACHES_BY_KEY[cache_name]:
                    self.__caches[cache].clear()
            self.cache_invalidated.clear()

    @contextmanager
    def manage_changes(self):
        try:
            yield self
            self.signal_changes()
        except Exception:
            self.reset_changes()
            raise

    # ------------------------------------------------------------------
    # models
    # ------------------------------------------------------------------
    def load(self, cr, module_name):
        """Compose the model classes defined by ``module_name``."""
        from ..models import MetaModel
        names = []
        for cls in MetaModel.module_to_models.get(module_name, []):
            model = cls._build_model(self)
            if model._name not in names:
                names.append(model._name)
        self._init_modules.add(module_name)
        return names

    def setup_models(self, cr):
        for model in self.models.values():
            model._setup_fields()
        self.routing_map = None

    def descendants(self, model_names, *kinds):
        return set(model_names)
