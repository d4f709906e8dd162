"""19.0's home of ``TestCursor`` (odoo/tests/test_cursor.py); 17.0/18.0 have it
in ``odoo.sql_db`` and no such module."""
import odoo.modules.module
from odoo import release
from odoo.sql_db import BaseCursor, _TestCursor

if release.SERIE_MAJOR < 19:
    raise ImportError("odoo.tests.test_cursor exists from 19.0 on (TestCursor is in odoo.sql_db)")


class TestCursor(_TestCursor):
    """See ``odoo.sql_db._TestCursor``.  19.0: the running test
    (``odoo.modules.module.current_test``) must exist and allow it
    (``assertCanOpenTestCursor``), before and after the lock is acquired; the
    lock is acquired within the test's ``test_cursor_lock_timeout``."""
    _cursors_stack = []

    def __init__(self, cursor, lock, readonly):
        assert isinstance(cursor, BaseCursor)
        self._push(cursor, lock)
        self.readonly = readonly
        current_test = odoo.modules.module.current_test
        assert current_test, 'Test Cursor without active test ?'
        current_test.assertCanOpenTestCursor()
        lock_timeout = current_test.test_cursor_lock_timeout
        if not self._lock.acquire(timeout=lock_timeout):
            raise Exception(f'Unable to acquire lock for test cursor after {lock_timeout}s')
        try:
            # again: the request may have waited for the lock between two tests
            current_test.assertCanOpenTestCursor()
            self._check_cursor_readonly()
        except Exception:
            self._lock.release()
            raise
        self._cursors_stack.append(self)
        self._savepoint = None      # created lazily, on the first execute

    def _check_cursor_readonly(self):
        last_cursor = self._cursors_stack and self._cursors_stack[-1]
        if last_cursor and last_cursor.readonly and not self.readonly and last_cursor._savepoint:
            raise Exception('Opening a read/write test cursor from a readonly one')

    def dictfetchone(self):
        return self._cursor.dictfetchone()

    def dictfetchmany(self, size):
        return self._cursor.dictfetchmany(size)

    def dictfetchall(self):
        return self._cursor.dictfetchall()
