"""Odoo's test classes (odoo/tests/common.py), reduced to what code under test
can notice: how ``TransactionCase`` / ``HttpCase`` put the registry in test
mode, and how an ``HttpCase``'s requests reach the test cursor.

* ``TransactionCase.setUpClass``: the registry of ``get_db_name()``, one
  cursor ``cls.cr`` (rolled back and closed by the class cleanups), a
  superuser ``cls.env``; ``setUp`` takes a savepoint that the test's cleanup
  rolls back to.
* ``HttpCase.setUpClass``: the registry's test mode on ``cls.cr`` (17.0
  ``registry.enter_test_mode(cr)``, 18.0 ``enter_test_mode(cr,
  readonly_enabled)``, 19.0 ``registry_enter_test_mode_cls()``: patches of
  ``registry.cursor``, ``Registry._lock``, ``setup_signaling``,
  ``check_signaling``), then ``web.base.url`` set through ``set_param``.
* The running test must be in ``odoo.modules.module.current_test`` (the
  runner sets it: 17.0 the module's name, 18.0/19.0 the test case) while
  requests are served: 18.0's TestCursor asks it ``check_test_cursor``,
  19.0's ``assertCanOpenTestCursor`` (a request must carry the test's
  ``test_request_key`` cookie: ``url_open`` sets it).
* ``url_open(url)`` serves the request through ``odoo.http.root`` in this
  thread (werkzeug's test client) and returns werkzeug's response.  Real
  Odoo serves it from its HTTP server thread; a TestCursor's lock is
  reentrant, so one thread does what matters (19.0 releases the test lock
  around the request all the same).

Not simulated: test tags, the runner, browsers, ``assertQueryCount``, the
``test_enable`` effects on the rest of Odoo.
"""
import contextlib
import itertools
import threading
import unittest
from unittest.mock import patch

import werkzeug.exceptions
import werkzeug.test

import odoo.http
import odoo.modules.module
from odoo import SUPERUSER_ID, api, release
from odoo.modules.registry import DummyRLock, Registry
from odoo.sql_db import Savepoint
from odoo.tools import config

V = release.SERIE_MAJOR
HOST = '127.0.0.1'
TEST_CURSOR_COOKIE_NAME = 'test_request_key'


def get_db_name():
    db = config['db_name']
    if not db and hasattr(threading.current_thread(), 'dbname'):
        return threading.current_thread().dbname
    if V >= 19:
        return db[0]
    return db


if V >= 19:
    class RegistryRLock(threading._RLock):
        @property
        def count(self):
            return self._count

    # released only while test cursors may be opened (url_open)
    _registry_test_lock = RegistryRLock()
    _registry_test_lock.acquire()

    @contextlib.contextmanager
    def release_test_lock():
        try:
            _registry_test_lock.release()
            yield
        finally:
            if not _registry_test_lock.acquire(timeout=60):
                raise SystemExit('Could not re-acquire the registry lock')


class BaseCase(unittest.TestCase):
    _registry_patched = False
    _registry_readonly_enabled = True
    test_cursor_lock_timeout = 20
    registry = None
    cr = None
    env = None

    @property
    def canonical_tag(self):
        module = type(self).__module__.split('.')
        module = module[2] if module[:2] == ['odoo', 'addons'] else module[-1]
        return f'/{module}:{type(self).__name__}.{self._testMethodName}'

    def setUp(self):
        super().setUp()
        if V == 18:
            self.http_request_key = self.canonical_tag
            self.http_request_strict_check = False
        elif V >= 19:
            self.http_request_key = ''
            self.http_request_allow_all = False

    if V == 18:
        def check_test_cursor(self, operation):
            if odoo.modules.module.current_test != self:
                raise werkzeug.exceptions.BadRequest(
                    f"Trying to open a test cursor for {self.canonical_tag} while already in a test "
                    f"{getattr(odoo.modules.module.current_test, 'canonical_tag', None)}")
            request = odoo.http.request
            if not request:
                return
            if not getattr(self, 'http_request_key', None):
                raise werkzeug.exceptions.BadRequest(
                    f'Using a test cursor without http_request_key, most likely between two tests on '
                    f'request {request.httprequest.path} in {self.canonical_tag}')
            http_request_key = request.httprequest.cookies.get(TEST_CURSOR_COOKIE_NAME)
            if not http_request_key:
                if self.http_request_strict_check:
                    raise werkzeug.exceptions.BadRequest(
                        f'Using a test cursor without specified test on request '
                        f'{request.httprequest.path} in {self.canonical_tag} as been ignored since '
                        f'cookie is mandatory after a browser_js call')
                return
            if http_request_key != self.http_request_key:
                raise werkzeug.exceptions.BadRequest(
                    'Request ignored during test as it does not contain the required cookie.')

    if V >= 19:
        def assertCanOpenTestCursor(self):
            if odoo.modules.module.current_test is not self:
                raise werkzeug.exceptions.BadRequest(
                    f"Trying to open a test cursor for {self.canonical_tag} while already in a test "
                    f"{getattr(odoo.modules.module.current_test, 'canonical_tag', None)}")
            request = odoo.http.request
            if not request or self.http_request_allow_all:
                return
            if request.httprequest.cookies.get(TEST_CURSOR_COOKIE_NAME) != self.http_request_key:
                raise werkzeug.exceptions.BadRequest(
                    'Request ignored during test as it does not contain the required cookie.')

        @classmethod
        def _registry_test_mode_patches(cls, *, cr, registry):
            from odoo.tests.test_cursor import TestCursor

            def _patched_cursor(readonly=False):
                return TestCursor(cr, _registry_test_lock, readonly and cls._registry_readonly_enabled)
            return [
                patch.object(registry, 'cursor', _patched_cursor),
                patch.object(Registry, '_lock', DummyRLock()),
                patch.object(registry, 'setup_signaling', return_value=None),
                patch.object(registry, 'check_signaling', return_value=registry),
            ]

        @classmethod
        def registry_enter_test_mode_cls(cls):
            assert not cls._registry_patched, 'Can only patch registry once'
            assert cls.cr, 'No cursor'
            assert cls.registry, 'No registry'
            cls.registry_patches = cls._registry_test_mode_patches(cr=cls.cr, registry=cls.registry)
            for p in cls.registry_patches:
                p.start()
            cls._registry_patched = True
            cls.addClassCleanup(cls.registry_leave_test_mode)

        @classmethod
        def registry_leave_test_mode(cls):
            assert cls._registry_patched, 'Registry is not patched'
            for p in cls.registry_patches:
                p.stop()
            cls.registry_patches.clear()
            cls._registry_patched = False

        @classmethod
        def set_registry_readonly_mode(cls, enabled):
            assert cls._registry_patched, 'Registry is not patched'
            cls._registry_readonly_enabled = enabled


class TransactionCase(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.addClassCleanup(cls.registry.reset_changes)
        cls.cr = cls.registry.cursor()
        cls.addClassCleanup(cls.cr.close)
        cls.env = api.Environment(cls.cr, SUPERUSER_ID, {})

    def setUp(self):
        super().setUp()
        self.env.flush_all()
        savepoint = Savepoint(self.cr)
        self.addCleanup(savepoint.close)


class HttpCase(TransactionCase):
    registry_test_mode = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.registry_test_mode:
            if V >= 19:
                cls.registry_enter_test_mode_cls()
            else:
                if V == 18:
                    cls.registry.enter_test_mode(
                        cls.cr, not hasattr(cls, 'readonly_enabled') or cls.readonly_enabled)
                else:
                    cls.registry.enter_test_mode(cls.cr)
                cls.addClassCleanup(cls.registry.leave_test_mode)
        icp = cls.env['ir.config_parameter']
        icp.set_param('web.base.url', cls.base_url())
        icp.env.flush_all()

    @classmethod
    def base_url(cls):
        return f"http://{HOST}:{config['http_port']}"

    def setUp(self):
        super().setUp()
        self.http_key_sequence = itertools.count()

    def url_open(self, url, data=None, headers=None, method=None):
        """The request, served through ``odoo.http.root`` in this thread; werkzeug's response."""
        method = method or ('POST' if data else 'GET')
        # Opener.request: the test's pending writes reach the database first
        self.cr.flush()
        self.cr.clear()
        with contextlib.ExitStack() as stack:
            key = getattr(self, 'http_request_key', None)
            if V >= 19:
                stack.enter_context(release_test_lock())
                key = f'{self.canonical_tag}__{next(self.http_key_sequence)}'
                stack.enter_context(patch.object(self, 'http_request_key', key))
            client = werkzeug.test.Client(odoo.http.root)
            if key:
                client.set_cookie(TEST_CURSOR_COOKIE_NAME, key)
            return client.open(url, method=method, data=data, headers=headers)
