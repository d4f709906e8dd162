"""Database access, after odoo/sql_db.py: ``db_connect(dbname).cursor()``.

Two backends behind one ``Cursor`` API:

* PostgreSQL through psycopg2, REPEATABLE READ, exactly like real Odoo, when
  ``config['sim_db_dsn']`` (or ``ODOO_SIM_DB_DSN``) holds a DSN without a
  database name; the database name is added per connection.
* SQLite (default), one WAL file per database in
  ``<config['data_dir']>/sim_db/<dbname>.sqlite3``.  The SQLite cursor is
  made to behave like a PostgreSQL REPEATABLE READ transaction as seen by
  Odoo code: ``%s`` placeholders, a snapshot taken when the transaction
  starts, a writer that *waits* for a concurrent writer and then fails with
  ``psycopg2.errors.SerializationFailure`` if that writer committed (or
  ``UniqueViolation`` when it inserted the same unique key), errors raised as
  psycopg2 exception classes, and an aborted transaction refusing further
  statements until rollback.  SQLite conflicts are database-wide where
  PostgreSQL's are per row: the simulator is stricter, never kinder.

Connections are per process: the pool notices ``os.fork()`` (pid change) and
never reuses, nor closes, a connection created by the parent.

Read-only connections (18.0+, ``db_connect(db, readonly=True)``, what the
registry uses for a replica): PostgreSQL sessions set read only, SQLite
connections with ``PRAGMA query_only``; a write fails with
``psycopg2.errors.ReadOnlySqlTransaction`` ("cannot execute UPDATE in a
read-only transaction") on both.
"""
import datetime
import logging
import os
import re
import sqlite3
import threading
import time
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from . import release
from .tools import config
from .tools.misc import Callbacks
from .tools.sql import SQL

_logger = logging.getLogger(__name__)

ISOLATION_LEVEL_REPEATABLE_READ = psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ


def _convert_timestamp(value):
    return datetime.datetime.fromisoformat(value.decode())


sqlite3.register_converter('timestamp', _convert_timestamp)
sqlite3.register_converter('boolean', lambda value: value not in (b'0', b'', b'False'))


def backend_name():
    return 'postgresql' if config.get('sim_db_dsn') else 'sqlite'


# ---------------------------------------------------------------------------
# SQLite translation: keep it small and explicit
# ---------------------------------------------------------------------------
_TOKEN = re.compile(r"%%|%s|%\((\w+)\)s|now\(\)\s+at\s+time\s+zone\s+'utc'", re.IGNORECASE)
_ROLLBACK_TO = re.compile(r'\s*ROLLBACK\s+TO\b', re.IGNORECASE)
# savepoint statements, tracked so that SET TRANSACTION READ ONLY ends where PostgreSQL ends it
_SAVEPOINT_STMT = re.compile(
    r'\s*(SAVEPOINT|RELEASE(?:\s+SAVEPOINT)?|ROLLBACK\s+TO(?:\s+SAVEPOINT)?)\s+"?([^"\s;]+)"?\s*;?\s*$',
    re.IGNORECASE)
_SET_TRANSACTION_MODE = re.compile(r'\s*SET\s+TRANSACTION\s+READ\s+(ONLY|WRITE)\s*;?\s*$', re.IGNORECASE)


def _adapt(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=' ')
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        raise psycopg2.NotSupportedError(
            "the SQLite backend of the simulated Odoo cannot bind a list (a PostgreSQL ARRAY)")
    return value


def translate_sqlite(query, params, now):
    """Rewrite a psycopg2-style query for sqlite3.

    * ``%s`` / ``%(name)s`` -> ``?``; a tuple becomes ``(?, ?, ...)`` like
      psycopg2 adapts tuples (``IN %s``); ``%%`` -> ``%`` (only when there
      are parameters, as psycopg2 does);
    * ``now() at time zone 'UTC'`` -> the transaction's timestamp as a bound
      parameter (``cr.now()``, Python time so freezegun drives it).
    """
    out = []
    positional = iter(params) if isinstance(params, (list, tuple)) else None

    def repl(match):
        token = match.group(0)
        if token == '%%':
            return '%' if params is not None else token
        if token.lower().startswith('now'):
            out.append(_adapt(now()))
            return '?'
        if params is None:
            return token
        if match.group(1):
            if not isinstance(params, dict):
                raise TypeError("format requires a mapping")
            value = params[match.group(1)]
        else:
            if positional is None:
                raise TypeError("argument formats can't be mixed")
            try:
                value = next(positional)
            except StopIteration:
                raise IndexError("tuple index out of range") from None
        if isinstance(value, tuple):
            if not value:
                raise psycopg2.errors.SyntaxError('syntax error at or near ")"')
            out.extend(_adapt(v) for v in value)
            return '(' + ', '.join('?' * len(value)) + ')'
        out.append(_adapt(value))
        return '?'

    sql = _TOKEN.sub(repl, query)
    if positional is not None and next(positional, StopIteration) is not StopIteration:
        raise TypeError("not all arguments converted during string formatting")
    return sql, out


def _map_sqlite_error(exc):
    """The psycopg2 exception PostgreSQL would have raised."""
    msg = str(exc)
    errors = psycopg2.errors
    if isinstance(exc, sqlite3.IntegrityError):
        if 'UNIQUE' in msg or 'PRIMARY KEY' in msg:
            return errors.UniqueViolation(f'duplicate key value violates unique constraint\nDETAIL:  {msg}')
        if 'NOT NULL' in msg:
            column = msg.rsplit('.', 1)[-1]
            return errors.NotNullViolation(f'null value in column "{column}" violates not-null constraint')
        if 'CHECK' in msg:
            return errors.CheckViolation(f'new row violates check constraint\nDETAIL:  {msg}')
        if 'FOREIGN KEY' in msg:
            return errors.ForeignKeyViolation(f'violates foreign key constraint\nDETAIL:  {msg}')
        return psycopg2.IntegrityError(msg)
    if isinstance(exc, sqlite3.OperationalError):
        if 'no such table' in msg:
            return errors.UndefinedTable(msg.replace('no such table:', 'relation') + ' does not exist')
        if 'no such column' in msg or 'has no column named' in msg:
            return errors.UndefinedColumn(msg)
        if 'syntax error' in msg or 'incomplete input' in msg:
            return errors.SyntaxError(msg)
        if 'already exists' in msg:
            return errors.DuplicateTable(msg)
        if 'locked' in msg or 'busy' in msg:
            return errors.SerializationFailure('could not serialize access due to concurrent update')
        return psycopg2.OperationalError(msg)
    if isinstance(exc, sqlite3.ProgrammingError):
        return psycopg2.ProgrammingError(msg)
    if isinstance(exc, sqlite3.InterfaceError):
        return psycopg2.InterfaceError(msg)
    return psycopg2.DatabaseError(msg)


def _read_only_error(sql):
    words = sql.split()
    verb = ' '.join(words[:2]) if words and words[0].upper() in ('CREATE', 'ALTER', 'DROP') else \
        (words[0] if words else '')
    return psycopg2.errors.ReadOnlySqlTransaction(
        f'cannot execute {verb.upper()} in a read-only transaction\n')


class _SqliteConnection:
    backend = 'sqlite'

    def __init__(self, dbname, readonly=False):
        self.dbname = dbname
        self.path = _sqlite_path(dbname)
        if not os.path.exists(self.path):
            raise psycopg2.OperationalError(
                f'connection to server failed: FATAL:  database "{dbname}" does not exist')
        self.raw = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                   detect_types=sqlite3.PARSE_DECLTYPES, check_same_thread=False)
        self.raw.execute('PRAGMA busy_timeout = 0')
        self.raw.execute('PRAGMA foreign_keys = ON')
        self.readonly = readonly
        if readonly:
            # PostgreSQL's SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY
            self.raw.execute('PRAGMA query_only = 1')
        self.pid = os.getpid()
        self.aborted = False
        # open savepoints of the current transaction, outermost first, and how many of them
        # were open when SET TRANSACTION READ ONLY ran (None: the transaction is read/write)
        self.savepoints = []
        self.read_only_depth = None

    @property
    def closed(self):
        try:
            self.raw.total_changes  # noqa: B018 - raises once closed
        except sqlite3.ProgrammingError:
            return True
        return False

    def cursor(self):
        return _SqliteCursor(self)

    def _probe(self, timeout):
        return sqlite3.connect(self.path, timeout=max(timeout, 0.001), isolation_level=None)

    def begin(self):
        self.raw.execute('BEGIN')
        # PostgreSQL's snapshot is taken by the transaction's first statement:
        # take SQLite's now, so a concurrent commit made afterwards is a
        # conflict for our writes, not silently "seen".  PostgreSQL never
        # refuses a snapshot; SQLite may answer busy while another worker
        # holds the database, which run() waits out like any other statement.
        self.run('SELECT count(*) FROM sqlite_master', ()).fetchall()

    def run(self, sql, args):
        deadline = time.monotonic() + float(config['sim_lock_timeout'])
        while True:
            try:
                return self.raw.execute(sql, args)
            except sqlite3.OperationalError as exc:
                name = getattr(exc, 'sqlite_errorname', '')
                if name.startswith('SQLITE_READONLY'):
                    raise _read_only_error(sql) from None
                if name == 'SQLITE_BUSY_SNAPSHOT':
                    raise self._conflict(sql, args, deadline) from None
                if not name.startswith('SQLITE_BUSY') and 'database is locked' not in str(exc):
                    raise _map_sqlite_error(exc) from exc
            except sqlite3.Error as exc:
                raise _map_sqlite_error(exc) from exc
            # Another transaction holds the write lock: PostgreSQL would block
            # on the row lock until it ends, so do we.
            if not self._wait_for_writer(deadline):
                raise psycopg2.errors.LockNotAvailable(
                    'could not obtain lock (simulated lock_timeout {}s)'.format(config['sim_lock_timeout']))

    def _wait_for_writer(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        probe = self._probe(remaining)
        try:
            probe.execute('BEGIN IMMEDIATE')
            probe.execute('ROLLBACK')
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    def _conflict(self, sql, args, deadline):
        # PostgreSQL reports a duplicate key for an INSERT racing a committed
        # INSERT of the same key, a serialization failure otherwise.
        if sql.lstrip()[:6].upper() == 'INSERT':
            probe = self._probe(deadline - time.monotonic())
            try:
                probe.execute('BEGIN')
                probe.execute(sql, args)
            except sqlite3.IntegrityError as exc:
                return _map_sqlite_error(exc)
            except sqlite3.Error:
                pass
            finally:
                if probe.in_transaction:
                    probe.execute('ROLLBACK')
                probe.close()
        return psycopg2.errors.SerializationFailure('could not serialize access due to concurrent update')

    def set_transaction_mode(self, mode):
        """PostgreSQL's ``SET TRANSACTION READ ONLY``: the rest of the transaction refuses
        writes, unless a savepoint opened before it is rolled back to. PostgreSQL refuses
        ``READ WRITE`` once a read-only transaction ran a query (always the case here)."""
        if mode.upper() == 'ONLY':
            if self.read_only_depth is None:
                self.read_only_depth = len(self.savepoints)
                self.raw.execute('PRAGMA query_only = 1')
        elif self.read_only_depth is not None or self.readonly:
            raise psycopg2.errors.ActiveSqlTransaction(
                'cannot set transaction read-write mode inside a read-only transaction'
                if self.savepoints else 'transaction read-write mode must be set before any query')

    def track_savepoint(self, verb, name):
        verb = verb.split()[0].upper()
        if verb == 'SAVEPOINT':
            self.savepoints.append(name)
            return
        # RELEASE / ROLLBACK TO: SQLite has already checked that the savepoint exists
        index = len(self.savepoints) - 1 - self.savepoints[::-1].index(name)
        if verb == 'RELEASE':
            del self.savepoints[index:]
            if self.read_only_depth is not None and self.read_only_depth > index:
                self.read_only_depth = index   # released into the enclosing (sub)transaction
        else:
            del self.savepoints[index + 1:]
            if self.read_only_depth is not None and self.read_only_depth > index:
                self._end_read_only()          # undone with everything after the savepoint

    def _end_read_only(self):
        self.read_only_depth = None
        if not self.readonly:
            self.raw.execute('PRAGMA query_only = 0')

    def _end_transaction(self):
        self.savepoints = []
        if self.read_only_depth is not None:
            self._end_read_only()

    def commit(self):
        if self.aborted:
            # PostgreSQL answers COMMIT of a failed transaction with ROLLBACK
            return self.rollback()
        if self.raw.in_transaction:
            try:
                self.raw.execute('COMMIT')
            except sqlite3.Error as exc:
                self.rollback()
                raise _map_sqlite_error(exc) from exc
            finally:
                self._end_transaction()

    def rollback(self):
        self.aborted = False
        if self.raw.in_transaction:
            self.raw.execute('ROLLBACK')
        self._end_transaction()

    def close(self):
        self.raw.close()


class _SqliteCursor:
    """sqlite3 cursor with psycopg2's interface; results are fetched eagerly
    so that ``rowcount`` means what it means on PostgreSQL (also for
    ``UPDATE ... RETURNING``) and statements never linger holding locks."""

    def __init__(self, cnx):
        self._cnx = cnx
        self._rows = []
        self._pos = 0
        self.description = None
        self.rowcount = -1
        self.query = None

    def execute(self, query, params=None, now=None):
        cnx = self._cnx
        sql, args = translate_sqlite(query, params, now)
        self.query = query  # what psycopg2 shows: the query as Odoo wrote it
        is_rollback_to = bool(_ROLLBACK_TO.match(sql))
        if cnx.aborted and not is_rollback_to:
            raise psycopg2.errors.InFailedSqlTransaction(
                'current transaction is aborted, commands ignored until end of transaction block')
        if not cnx.raw.in_transaction:
            cnx.begin()
        mode = _SET_TRANSACTION_MODE.match(sql)
        try:
            if mode:
                cnx.set_transaction_mode(mode.group(1))
                self._rows, self.description, self.rowcount, self._pos = [], None, -1, 0
                return
            cur = cnx.run(sql, args)
            savepoint = _SAVEPOINT_STMT.match(sql)
            if savepoint:
                cnx.track_savepoint(savepoint.group(1), savepoint.group(2))
            if cur.description:
                self._rows = cur.fetchall()
                self.description = cur.description
                self.rowcount = len(self._rows)
            else:
                self._rows = []
                self.description = None
                self.rowcount = cur.rowcount
            self._pos = 0
        except psycopg2.Error:
            cnx.aborted = True
            raise
        if is_rollback_to:
            cnx.aborted = False

    def fetchone(self):
        if self.description is None:
            raise psycopg2.ProgrammingError('no results to fetch')
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchmany(self, size=1):
        if self.description is None:
            raise psycopg2.ProgrammingError('no results to fetch')
        rows = self._rows[self._pos:self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchall(self):
        if self.description is None:
            raise psycopg2.ProgrammingError('no results to fetch')
        rows = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rows

    def close(self):
        self._rows = []


class _PgConnection:
    backend = 'postgresql'

    def __init__(self, dbname, readonly=False):
        self.dbname = dbname
        self.readonly = readonly
        self.raw = psycopg2.connect(config['sim_db_dsn'], dbname=dbname)
        self.raw.set_session(isolation_level=ISOLATION_LEVEL_REPEATABLE_READ, readonly=readonly)
        self.pid = os.getpid()

    @property
    def closed(self):
        return bool(self.raw.closed)

    def cursor(self):
        return self.raw.cursor()

    def commit(self):
        self.raw.commit()

    def rollback(self):
        self.raw.rollback()

    def close(self):
        self.raw.close()


def _sqlite_path(dbname):
    if not re.fullmatch(r'[\w.-]+', dbname or ''):
        raise psycopg2.OperationalError(f'invalid database name {dbname!r}')
    return os.path.join(config['data_dir'], 'sim_db', f'{dbname}.sqlite3')


def _connect(dbname, readonly=False):
    if backend_name() == 'postgresql':
        return _PgConnection(dbname, readonly)
    return _SqliteConnection(dbname, readonly)


class ConnectionPool:
    """Per-process pool of idle connections (see the module docstring)."""

    def __init__(self, maxconn=16):
        self._maxconn = maxconn
        self._reset()
        self._inherited = []

    def _reset(self):
        self._pid = os.getpid()
        self._idle = []
        self._lock = threading.Lock()

    def _check_fork(self):
        if self._pid != os.getpid():
            # the parent's connections share sockets/file locks with the
            # parent: keep them referenced and untouched forever
            self._inherited.append(self._idle)
            self._reset()

    def borrow(self, dbname, readonly=False):
        self._check_fork()
        backend = backend_name()
        with self._lock:
            for i, cnx in enumerate(self._idle):
                if (cnx.dbname == dbname and cnx.backend == backend and cnx.readonly == readonly
                        and not cnx.closed):
                    return self._idle.pop(i)
        return _connect(dbname, readonly)

    def give_back(self, cnx, keep_in_pool=True):
        self._check_fork()
        if cnx.pid != os.getpid():
            return
        with self._lock:
            if keep_in_pool and not cnx.closed and len(self._idle) < self._maxconn:
                cnx.rollback()
                self._idle.append(cnx)
                return
        cnx.close()

    def close_all(self, dbname=None):
        self._check_fork()
        with self._lock:
            keep = []
            for cnx in self._idle:
                if dbname is None or cnx.dbname == dbname:
                    cnx.close()
                else:
                    keep.append(cnx)
            self._idle = keep


_Pool = ConnectionPool()


class Savepoint:
    """``with cr.savepoint():`` releases on success, rolls back to the
    savepoint and re-raises on error (odoo/sql_db.py).  Plain statements, so
    that it also works on a driver-level cursor (``cr._obj``), as
    ``TestCursor`` uses it."""

    def __init__(self, cr):
        self.name = str(uuid.uuid1())
        self._cr = cr
        self.closed = False
        cr.execute(f'SAVEPOINT "{self.name}"')

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close(rollback=exc_type is not None)

    def close(self, *, rollback=True):
        if not self.closed:
            self._close(rollback)

    def rollback(self):
        self._cr.execute(f'ROLLBACK TO SAVEPOINT "{self.name}"')

    def _close(self, rollback):
        if rollback:
            self.rollback()
        self._cr.execute(f'RELEASE SAVEPOINT "{self.name}"')
        self.closed = True


class _FlushingSavepoint(Savepoint):
    def __init__(self, cr):
        cr.flush()
        super().__init__(cr)

    def rollback(self):
        self._cr.clear()
        super().rollback()

    def _close(self, rollback):
        try:
            if not rollback:
                self._cr.flush()
        except Exception:
            rollback = True
            raise
        finally:
            super()._close(rollback)


class BaseCursor:
    def __init__(self):
        self.precommit = Callbacks()
        self.postcommit = Callbacks()
        self.prerollback = Callbacks()
        self.postrollback = Callbacks()
        # set by api.Environment: the ORM cache and pending writes
        self.transaction = None

    def flush(self):
        if self.transaction is not None:
            self.transaction.flush()
        self.precommit.run()

    def clear(self):
        if self.transaction is not None:
            self.transaction.clear()
        self.precommit.clear()

    def reset(self):
        if self.transaction is not None:
            self.transaction.reset()

    def savepoint(self, flush=True):
        return _FlushingSavepoint(self) if flush else Savepoint(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            if exc_type is None:
                self.commit()
        finally:
            self.close()


class Cursor(BaseCursor):
    def __init__(self, pool, dbname, readonly=False):
        super().__init__()
        self._closed = True
        self.__pool = pool
        self.dbname = dbname
        self._cnx = pool.borrow(dbname, readonly)
        self._obj = self._cnx.cursor()
        self._closed = False
        self._now = None
        self.cache = {}
        self.sql_log_count = 0

    @property
    def backend(self):
        return self._cnx.backend

    if release.SERIE_MAJOR >= 18:
        @property
        def readonly(self):
            return bool(self._cnx.readonly)

    def execute(self, query, params=None, log_exceptions=True):
        if self._closed:
            raise psycopg2.InterfaceError('cursor already closed')
        if isinstance(query, SQL):
            assert params is None, "Unexpected parameters for SQL query object"
            query, params = query.code, query.params
        if params and not isinstance(params, (tuple, list, dict)):
            raise ValueError(f"SQL query parameters should be a tuple, list or dict; got {params!r}")
        params = params if params else None
        try:
            if self._cnx.backend == 'sqlite':
                self._obj.execute(query, params, self.now)
            else:
                self._obj.execute(query, params)
        except Exception as e:
            # real Odoo logs every failing query (constraint violations and
            # serialization failures included) unless told not to
            if log_exceptions:
                _logger.error("bad query: %s\nERROR: %s", getattr(self._obj, 'query', None) or query, e)
            raise
        self.sql_log_count += 1

    def __build_dict(self, row):
        return {d[0]: row[i] for i, d in enumerate(self._obj.description)}

    def dictfetchone(self):
        row = self._obj.fetchone()
        return row and self.__build_dict(row)

    def dictfetchmany(self, size):
        return [self.__build_dict(row) for row in self._obj.fetchmany(size)]

    def dictfetchall(self):
        return [self.__build_dict(row) for row in self._obj.fetchall()]

    def split_for_in_conditions(self, ids, size=None):
        ids = list(ids)
        size = size or 1000
        for i in range(0, len(ids), size):
            yield tuple(ids[i:i + size])

    def close(self):
        if not self.closed:
            return self._close()

    def _close(self):
        if not getattr(self, '_obj', None):
            return
        self._obj.close()
        del self._obj
        self.rollback()
        self._closed = True
        self.__pool.give_back(self._cnx)

    def commit(self):
        if self._closed:
            raise psycopg2.InterfaceError('cursor already closed')
        self.flush()
        try:
            result = self._cnx.commit()
        except Exception:
            # a failed COMMIT is a rolled back transaction
            self.clear()
            self.postcommit.clear()
            raise
        self.clear()
        self._now = None
        self.prerollback.clear()
        self.postrollback.clear()
        self.postcommit.run()
        return result

    def rollback(self):
        if self._closed:
            raise psycopg2.InterfaceError('cursor already closed')
        self.clear()
        self.postcommit.clear()
        self.prerollback.run()
        result = self._cnx.rollback()
        self._now = None
        self.postrollback.run()
        return result

    def __getattr__(self, name):
        if name == '_obj' or self._closed:
            raise psycopg2.InterfaceError('cursor already closed')
        return getattr(self._obj, name)

    @property
    def closed(self):
        return self._closed or self._cnx.closed

    def now(self):
        """The transaction's timestamp, naive UTC.  Real Odoo asks PostgreSQL
        (``now() at time zone 'UTC'``); the simulator uses Python's clock so
        that freezegun controls it on both backends."""
        if self._now is None:
            self._now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        return self._now


class _TestCursor(BaseCursor):
    """Odoo's test cursor: a pseudo-cursor on top of the test's own cursor
    (``registry.test_cr``), which keeps one transaction open across the
    requests of a test and simulates commit, rollback and close with a
    savepoint.  ``TestCursor`` below (17.0/18.0; 19.0 has it in
    ``odoo/tests/test_cursor.py``) follows the flavour's code:

    * 17.0: the savepoint is taken on the test cursor when the TestCursor is
      created (and again on the first execute after a commit); ``rollback``
      rolls back to it and keeps it; no read-only cursors.
    * 18.0/19.0: the savepoint is taken lazily on the first execute, on the
      driver cursor (``cr._obj``: invisible to query counts); a read-only
      TestCursor then runs ``SET TRANSACTION READ ONLY`` inside it (writes
      fail with ``ReadOnlySqlTransaction`` until the savepoint is rolled
      back); ``commit`` releases the savepoint (rolls it back first when
      read-only), ``rollback`` rolls back to it and releases it.  Opening a
      read/write TestCursor while the top of the stack is a read-only one
      whose savepoint exists raises
      ``Exception('Opening a read/write test cursor from a readonly one')``.

    All: ``commit`` DROPS post-commit callbacks (they never run), ``close``
    rolls back; a class-level ``_cursors_stack``; the registry's test lock is
    held from creation to close (it serialises the requests of a test).
    """
    _cursors_stack = []

    def _push(self, cursor, lock):
        super().__init__()
        self._now = None
        self._closed = False
        self._cursor = cursor
        self._lock = lock

    def _check(self, operation):
        pass

    def execute(self, *args, **kwargs):
        if release.SERIE_MAJOR >= 18:
            assert not self._closed, "Cannot use a closed cursor"
            self._check_savepoint()
        elif not self._savepoint:
            self._savepoint = self._cursor.savepoint(flush=False)
        return self._cursor.execute(*args, **kwargs)

    def _check_savepoint(self):
        if not self._savepoint:
            # on the driver cursor: test artefacts stay out of query counts
            self._savepoint = Savepoint(self._cursor._obj)
            if self.readonly:
                # this simulates a read-only connection, as Odoo does
                self._cursor._obj.execute('SET TRANSACTION READ ONLY')

    def close(self):
        if release.SERIE_MAJOR < 18:
            if not self._closed:
                self.rollback()
                self._closed = True
                if self._savepoint:
                    self._savepoint.close(rollback=False)
                self._pop()
            return
        if not self._closed:
            try:
                self.rollback()
                if self._savepoint:
                    self._savepoint.close(rollback=False)
            finally:
                self._closed = True
                self._pop()

    def _pop(self):
        tos = self._cursors_stack.pop()
        if tos is not self:
            _logger.warning("Found different un-closed cursor when trying to close %s: %s", self, tos)
        self._lock.release()

    def commit(self):
        self._check('commit')
        self.flush()
        if self._savepoint:
            self._savepoint.close(rollback=release.SERIE_MAJOR >= 18 and self.readonly)
            self._savepoint = None
        self.clear()
        self.prerollback.clear()
        self.postrollback.clear()
        self.postcommit.clear()         # TestCursor ignores post-commit hooks

    def rollback(self):
        self._check('rollback')
        self.clear()
        self.postcommit.clear()
        self.prerollback.run()
        if self._savepoint:
            if release.SERIE_MAJOR < 18:
                self._savepoint.rollback()
            else:
                self._savepoint.close(rollback=True)
                self._savepoint = None
        self.postrollback.run()

    def __getattr__(self, name):
        if name.startswith('__') or name in ('_cursor', 'current_test'):
            raise AttributeError(name)
        self._check(name)
        return getattr(self._cursor, name)

    def now(self):
        """The transaction's timestamp: ``datetime.now()``, as Odoo's TestCursor."""
        if self._now is None:
            self._now = datetime.datetime.now()
        return self._now


if release.SERIE_MAJOR < 18:
    class TestCursor(_TestCursor):
        _cursors_stack = []

        def __init__(self, cursor, lock):
            self._push(cursor, lock)
            # we use a lock to serialize concurrent requests
            self._lock.acquire()
            self._cursors_stack.append(self)
            # the savepoint of the last commit
            self._savepoint = self._cursor.savepoint(flush=False)

elif release.SERIE_MAJOR == 18:
    class TestCursor(_TestCursor):
        _cursors_stack = []

        def __init__(self, cursor, lock, readonly, current_test=None):
            assert isinstance(cursor, BaseCursor)
            self.current_test = current_test
            self._check('__init__')
            self._push(cursor, lock)
            self.readonly = readonly
            self._lock.acquire()
            last_cursor = self._cursors_stack and self._cursors_stack[-1]
            if last_cursor and last_cursor.readonly and not readonly and last_cursor._savepoint:
                # real 18.0 raises with the lock held and the cursor off the stack
                raise Exception('Opening a read/write test cursor from a readonly one')
            self._cursors_stack.append(self)
            self._savepoint = None      # created lazily, on the first execute

        def _check(self, operation):
            if self.current_test:
                self.current_test.check_test_cursor(operation)


class Connection:
    """A lightweight handle on a database, as returned by ``db_connect``."""

    def __init__(self, pool, dbname, readonly=False):
        self.__pool = pool
        self.__dbname = dbname
        self.__readonly = readonly

    @property
    def dbname(self):
        return self.__dbname

    @property
    def backend(self):
        return backend_name()

    def cursor(self):
        return Cursor(self.__pool, self.__dbname, self.__readonly)

    def __bool__(self):
        raise NotImplementedError()


if release.SERIE_MAJOR >= 18:
    def db_connect(to, allow_uri=False, readonly=False):
        return Connection(_Pool, to, readonly)
else:
    def db_connect(to, allow_uri=False):
        return Connection(_Pool, to)


def close_db(db_name):
    _Pool.close_all(db_name)


def close_all():
    _Pool.close_all()


# ---------------------------------------------------------------------------
# server-level operations used by odoo.service.db and the registry signaling
# ---------------------------------------------------------------------------
def _pg_admin(sql):
    cnx = psycopg2.connect(config['sim_db_dsn'], dbname='postgres')
    try:
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute(sql)
            return cr.fetchall() if cr.description else None
    finally:
        cnx.close()


def list_databases():
    if backend_name() == 'postgresql':
        rows = _pg_admin("""
            SELECT datname FROM pg_database
             WHERE datdba = (SELECT usesysid FROM pg_user WHERE usename = current_user)
               AND NOT datistemplate AND datallowconn AND datname NOT IN ('postgres')
             ORDER BY datname""")
        return [r[0] for r in rows]
    directory = os.path.join(config['data_dir'], 'sim_db')
    if not os.path.isdir(directory):
        return []
    return sorted(f[:-len('.sqlite3')] for f in os.listdir(directory) if f.endswith('.sqlite3'))


def create_empty_database(dbname):
    if dbname in list_databases():
        raise psycopg2.errors.DuplicateDatabase(f'database "{dbname}" already exists')
    if backend_name() == 'postgresql':
        _pg_admin(f'CREATE DATABASE "{dbname}" ENCODING \'unicode\' TEMPLATE template0')
        return
    path = _sqlite_path(dbname)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cnx = sqlite3.connect(path, isolation_level=None)
    try:
        cnx.execute('PRAGMA journal_mode = WAL')
    finally:
        cnx.close()


def drop_database(dbname):
    close_db(dbname)
    if backend_name() == 'postgresql':
        _pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        return
    path = _sqlite_path(dbname)
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def autocommit_execute(dbname, query, params=()):
    """Run one statement in its own transaction that never conflicts (it only
    waits for locks): what PostgreSQL sequences give Odoo's signaling."""
    if backend_name() == 'postgresql':
        cnx = psycopg2.connect(config['sim_db_dsn'], dbname=dbname)
        try:
            cnx.autocommit = True
            with cnx.cursor() as cr:
                cr.execute(query, params or None)
                return cr.fetchall() if cr.description else None
        finally:
            cnx.close()
    path = _sqlite_path(dbname)
    if not os.path.exists(path):
        raise psycopg2.OperationalError(f'database "{dbname}" does not exist')
    cnx = sqlite3.connect(path, timeout=float(config['sim_lock_timeout']), isolation_level=None)
    try:
        sql, args = translate_sqlite(query, params or None, lambda: None)
        cur = cnx.execute(sql, args)
        return cur.fetchall() if cur.description else None
    except sqlite3.Error as exc:
        raise _map_sqlite_error(exc) from exc
    finally:
        cnx.close()
