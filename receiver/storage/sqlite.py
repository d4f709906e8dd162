"""SQLite backend: every record in memory, an ack log, SQLite checkpoints.

How a write goes (``register`` / ``heartbeat`` / ``delete``), all under one
lock held for a few microseconds of pure Python:

1. read the server's current record from memory and apply the merge from
   ``receiver.records``;
2. copy the whole new record, with the next sequence number, into the ack
   log (``receiver.storage.acklog``: a memory-mapped file, so the copy is
   already in the kernel's page cache);
3. store the record in memory and mark the server changed for the next
   checkpoint.

Then the request is answered.  The lock makes each read-merge-write atomic:
16 threads heartbeating one server produce 16 ordered merges, none lost.

A background thread does the rest, outside the requests:

* every ``SYNC_INTERVAL_S`` it ``fdatasync``s the ack log: a sequential
  write of what was appended since, so acknowledged writes reach the disk
  within a fraction of a second;
* every ``CHECKPOINT_INTERVAL_S`` it writes the latest record of each server
  changed since the last checkpoint to SQLite in one transaction (WAL
  journal, ``synchronous=FULL``) together with the sequence number reached,
  and deletes ack-log segments that are fully checkpointed.  A server that
  heartbeated many times since costs one row.  Checkpoints are rare because
  each changed row rewrites a page of the table at a random place, which
  cost more CPU per heartbeat than the whole request when done every 0.2 s
  (README, "Design notes").

At start the receiver loads the table and replays what the ack log holds
beyond the checkpointed sequence number.

Durability, precisely: an acknowledged write is in the kernel before the
answer, so it survives the receiver process dying in any way (``kill -9``,
OOM killer, crash).  It survives an operating-system crash or power loss
once the next sync has run, normally within ``SYNC_INTERVAL_S`` plus the
time of the sync.

Why not commit each request to SQLite and answer after the commit (group
commit)?  It was built and measured (README, "Design notes"): every sqlite3
call and every thread hand-off releases the GIL, and on the 2-core target
getting it back under load cost more CPU per request than the HTTP server
itself; throughput halved.  The write path above makes no system call at all.

Reads (``get``, ``list_servers``) are answered from memory.  One receiver
process owns a database file: it holds an exclusive ``flock`` on
``<db>-lock`` (released by the kernel if the process dies), and a second
receiver on the same file refuses to start.  Other programs may read the
SQLite file at any time; it lags the receiver by up to a checkpoint
interval.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator

from receiver.errors import StorageError
from receiver.records import (
    Report,
    ServerRecord,
    apply_heartbeat,
    apply_register,
    record_from_columns,
)
from receiver.status import StatusRule
from receiver.storage import acklog
from receiver.storage.base import ServerPage, ServerQuery, Storage, WriteResult
from receiver.storage.query import select

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SYNC_INTERVAL_S = 0.2
CHECKPOINT_INTERVAL_S = 5.0

# Migrations by the user_version they produce.  Later features (state
# history, stable instance identity across hostnames) add versions here.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE servers (
            server_id       TEXT PRIMARY KEY,
            hostname        TEXT,
            database        TEXT,
            odoo_stage      TEXT,
            odoo_version    TEXT,
            version         TEXT,
            registered_at   INTEGER,
            first_seen      INTEGER NOT NULL,
            last_seen       INTEGER NOT NULL,
            heartbeat_count INTEGER NOT NULL,
            info            TEXT NOT NULL
        )
        """,
        # The ack-log sequence number the table reflects, and the id that ties
        # ack-log segments to this database.
        """
        CREATE TABLE checkpoint (
            id     INTEGER PRIMARY KEY CHECK (id = 1),
            seq    INTEGER NOT NULL,
            log_id TEXT NOT NULL
        )
        """,
        "INSERT INTO checkpoint (id, seq, log_id) VALUES (1, 0, lower(hex(randomblob(8))))",
    ),
}

_COLUMNS = "server_id, info, first_seen, last_seen, heartbeat_count, registered_at"
# What a checkpoint writes per server, in ``_checkpoint_values`` order.
_UPSERT_COLUMNS = (
    "server_id", "hostname", "database", "odoo_stage", "odoo_version", "version",
    "registered_at", "first_seen", "last_seen", "heartbeat_count", "info",
)
# Rows per INSERT statement of a checkpoint (fewer where SQLite allows fewer
# bound parameters).  Every sqlite3 call releases and re-takes the GIL, which
# is what costs under load, so a checkpoint makes few calls: a few hundred
# rows per statement, as bound parameters.  The former single call with all
# rows as one JSON parameter made SQLite parse every row's JSON again for
# each column it extracted: 3.7 times the instructions per changed server (README,
# "Design notes").
MAX_ROWS_PER_STATEMENT = 512


@functools.lru_cache(maxsize=64)
def _upsert_statement(rows: int) -> str:
    """INSERT of ``rows`` servers, replacing what the table holds for them."""
    placeholders = "(" + ",".join("?" * len(_UPSERT_COLUMNS)) + ")"
    updates = ", ".join(f"{name} = excluded.{name}" for name in _UPSERT_COLUMNS[1:])
    return (f"INSERT INTO servers ({', '.join(_UPSERT_COLUMNS)}) "
            f"VALUES {','.join([placeholders] * rows)} "
            f"ON CONFLICT (server_id) DO UPDATE SET {updates}")


def _statement_sizes(rows: int, largest: int) -> Iterator[int]:
    """Rows per statement: ``largest`` while it fits, then powers of two, so
    that a handful of statement texts serve every count (sqlite3 caches
    compiled statements by text)."""
    while rows >= largest:
        yield largest
        rows -= largest
    while rows:
        size = 1 << (rows.bit_length() - 1)
        yield size
        rows -= size


_DELETE_MANY = "DELETE FROM servers WHERE server_id IN (SELECT value FROM json_each(?))"
_SET_CHECKPOINT = "UPDATE checkpoint SET seq = ? WHERE id = 1"

_BUSY_TIMEOUT_S = 5.0


def _checkpoint_values(record: ServerRecord) -> tuple:
    """The ``servers`` row of a record, in ``_UPSERT_COLUMNS`` order."""
    return (record.server_id, record.hostname, record.database, record.odoo_stage,
            record.odoo_version, record.version, record.registered_at, record.first_seen,
            record.last_seen, record.heartbeat_count, record.info_json().decode())


class SQLiteStorage(Storage):
    def __init__(self, path: str, *, checkpoint_interval: float = CHECKPOINT_INTERVAL_S,
                 sync_interval: float = SYNC_INTERVAL_S):
        self._path = path
        self._checkpoint_interval = checkpoint_interval
        self._sync_interval = min(sync_interval, checkpoint_interval)
        self._lock = threading.Lock()
        self._closed = False
        # The last failure of a sync or checkpoint, until one succeeds again;
        # writes stay safe in the ack log meanwhile.
        self._persist_error: Exception | None = None
        self._lock_file = self._claim(path)
        try:
            self._conn = self._connect()
            try:
                self._prepare()
                self._rows_per_statement = min(
                    MAX_ROWS_PER_STATEMENT,
                    self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(_UPSERT_COLUMNS))
                self._records, self._checkpoint_seq, self._log_id = self._load()
                self._seq = self._checkpoint_seq
                self._recover()
                self._segment = acklog.open_segment(path, self._log_id, self._next_segment_number())
            except BaseException:
                self._conn.close()
                raise
        except (sqlite3.Error, OSError) as exc:
            self._lock_file.close()
            raise StorageError(f"cannot use database {path!r}: {exc}") from None
        except BaseException:
            self._lock_file.close()
            raise
        # Changed since the last checkpoint: server_id -> latest record, None if
        # deleted.  Its size is bounded by the fleet, not by the write rate.
        self._unsaved: dict[str, ServerRecord | None] = {}
        self._entry_buffer = acklog.new_entry_buffer()  # used under the lock
        # Records that writes replaced since the checkpointer last came by: it
        # drops them there, in one batch, rather than the request that
        # replaced them (measured: 8-16 µs of CPU less per heartbeat served,
        # receiver/README.md, "Speed").  About a sync interval's writes; more
        # while a flush to disk is slow.
        self._replaced: list[ServerRecord | None] = []
        self._retired: list[acklog.Segment] = []
        # Retired segments written since the last sync.
        self._unsynced: list[acklog.Segment] = []
        self._spare: acklog.Segment | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._checkpoint_loop, name="receiver-checkpointer", daemon=True
        )
        self._thread.start()

    # -- opening -------------------------------------------------------------

    @staticmethod
    def _claim(path: str):
        lock_path = f"{path}-lock"
        try:
            lock_file = open(lock_path, "a+b")  # held until close()
        except OSError as exc:
            raise StorageError(f"cannot create lock file {lock_path!r}: {exc.strerror}") from None
        if fcntl is not None:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock_file.close()
                raise StorageError(
                    f"database {path!r} is in use by another receiver ({lock_path!r} is locked)"
                ) from None
        return lock_file

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self._path,
                isolation_level=None,  # transactions are explicit
                check_same_thread=False,  # opened here, used by the checkpointer
                timeout=_BUSY_TIMEOUT_S,
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self._path!r}: {exc}") from None

    def _prepare(self) -> None:
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"cannot switch to WAL journal mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        # Without a limit the WAL keeps the size of its largest burst forever.
        conn.execute("PRAGMA journal_size_limit = 67108864")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"schema version {version} is newer than this receiver supports "
                    f"({SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _load(self) -> tuple[dict[str, ServerRecord], int, str]:
        records = {}
        for server_id, info, first_seen, last_seen, count, registered_at in self._conn.execute(
            f"SELECT {_COLUMNS} FROM servers"
        ):
            records[server_id] = record_from_columns(
                server_id, info, first_seen, last_seen, count, registered_at)
        seq, log_id = self._conn.execute("SELECT seq, log_id FROM checkpoint WHERE id = 1").fetchone()
        return records, seq, log_id

    def _recover(self) -> None:
        """Apply the ack log beyond the checkpoint, then start from a clean log."""
        segments, foreign = acklog.segment_paths(self._path, self._log_id)
        for path in foreign:
            log.warning("ignoring %s: it belongs to another database with this name", path)
        self._last_segment_number = segments[-1][0] if segments else 0
        if not segments:
            return
        latest: dict[str, acklog.Entry] = {}
        for entry in acklog.read_entries([path for _, path in segments]):
            if entry.seq <= self._checkpoint_seq:
                continue
            known = latest.get(entry.server_id)
            if known is None or entry.seq > known.seq:
                latest[entry.server_id] = entry
        if latest:
            upserts, deletes = [], []
            for entry in latest.values():
                if entry.row is None:
                    self._records.pop(entry.server_id, None)
                    deletes.append(entry.server_id)
                else:
                    self._records[entry.server_id] = entry.row
                    upserts.append(entry.row)
            seq = max(entry.seq for entry in latest.values())
            self._write_checkpoint(upserts, deletes, seq)
            self._seq = self._checkpoint_seq = seq
            log.info("recovered %d server record(s) from the ack log", len(latest))
        for _, path in segments:
            acklog.remove_file(path)

    def _next_segment_number(self) -> int:
        self._last_segment_number += 1
        return self._last_segment_number

    # -- writes ----------------------------------------------------------------

    def _check_writable(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")

    def _log(self, seq: int, data: bytes) -> None:
        """Append to the ack log; the caller holds the lock and changes nothing before."""
        if not self._segment.append(seq, data):
            self._log_in_new_segment(seq, data)

    def _log_in_new_segment(self, seq: int, data: bytes) -> None:
        """``_log`` once the current segment is full."""
        # Normally the checkpointer has a spare segment ready, so no writer
        # waits for a file to be created and allocated.
        fresh, self._spare = self._spare, None
        if fresh is None:
            try:
                fresh = acklog.open_segment(self._path, self._log_id, self._next_segment_number())
            except OSError as exc:
                log.error("cannot start a new ack log segment: %s", exc)
                raise StorageError(f"cannot extend the ack log: {exc.strerror}") from None
        self._retired.append(self._segment)
        self._unsynced.append(self._segment)
        self._segment = fresh
        if not fresh.append(seq, data):
            raise StorageError("entry is larger than an ack log segment")

    def heartbeat(self, report: Report, now: int, apply=apply_heartbeat) -> WriteResult:
        """Read, merge, log and publish one write.  ``register`` is this with
        ``apply_register``: one method, so that a heartbeat, most of the
        traffic, costs one Python call rather than two."""
        server_id = report.server_id
        records, lock, replaced = self._records, self._lock, self._replaced
        while True:
            # Merge outside the lock, then log and publish only if no other
            # write to this server got in meanwhile (records are immutable, so
            # identity tells).  A short lock matters under the GIL: a thread
            # that loses the GIL while holding it stalls every other writer.
            existing = records.get(server_id)
            record = apply(existing, report, now)
            # acquire/release rather than ``with``: a thousand instructions
            # less per write (valgrind), for the same lock.
            lock.acquire()
            try:
                if self._closed:
                    raise StorageError("storage is closed")
                if records.get(server_id) is existing:
                    seq = self._seq + 1
                    # _log, inline: this is every register and heartbeat.
                    entry = acklog.encode_row_entry(seq, record, self._entry_buffer)
                    if not self._segment.append(seq, entry):
                        self._log_in_new_segment(seq, entry)
                    self._seq = seq
                    records[server_id] = record
                    self._unsaved[server_id] = record
                    replaced.append(existing)  # freed by the checkpointer, not here
                    return WriteResult(record, existing is None)
            finally:
                lock.release()

    def register(self, report: Report, now: int) -> WriteResult:
        return self.heartbeat(report, now, apply_register)

    def delete(self, server_id: str) -> bool:
        with self._lock:
            self._check_writable()
            if server_id not in self._records:
                return False
            seq = self._seq + 1
            self._log(seq, acklog.encode_delete_entry(seq, server_id))
            self._seq = seq
            del self._records[server_id]
            self._unsaved[server_id] = None
        return True

    # -- checkpoints -------------------------------------------------------------

    def _checkpoint_loop(self) -> None:
        next_checkpoint = time.monotonic() + self._checkpoint_interval
        while not self._stop.wait(self._sync_interval):
            self._drop_replaced()
            try:
                self._sync()
                if time.monotonic() >= next_checkpoint:
                    next_checkpoint = time.monotonic() + self._checkpoint_interval
                    self._checkpoint()
            except Exception as exc:  # keep trying; the ack log still holds the data
                if self._persist_error is None:
                    log.error("writing to disk failed, will retry: %s", exc)
                self._persist_error = exc
            else:
                if self._persist_error is not None:
                    log.info("writing to disk works again")
                self._persist_error = None

    def _drop_replaced(self) -> None:
        """Free the records writes replaced, outside the lock (the last
        references to most of them are here)."""
        with self._lock:
            dropped = self._replaced.copy()
            self._replaced.clear()
        del dropped

    def _sync(self) -> None:
        """fdatasync the ack log written since the last sync (without the GIL)."""
        with self._lock:
            segments, self._unsynced = [*self._unsynced, self._segment], []
        try:
            for segment in segments:
                segment.sync()
        except BaseException:
            with self._lock:
                self._unsynced[:0] = segments[:-1]
            raise

    def _checkpoint(self) -> None:
        """Write every change so far to SQLite; drop checkpointed log segments."""
        # Take the changes and the sequence number they reach in one step:
        # a write after this goes to the next checkpoint.
        with self._lock:
            taken, self._unsaved = self._unsaved, {}
            seq = self._seq
        if seq > self._checkpoint_seq:
            upserts = [record for record in taken.values() if record is not None]
            deletes = [server_id for server_id, record in taken.items() if record is None]
            try:
                self._write_checkpoint(upserts, deletes, seq)
            except BaseException:
                # Back for the next attempt, unless a newer write replaced them.
                with self._lock:
                    self._unsaved = taken | self._unsaved
                raise
            self._checkpoint_seq = seq
        with self._lock:
            done = [s for s in self._retired if (s.max_seq or 0) <= self._checkpoint_seq]
            self._retired = [s for s in self._retired if s not in done]
            self._unsynced = [s for s in self._unsynced if s not in done]
            wants_spare = (self._spare is None and not self._closed
                           and self._segment.offset > self._segment.capacity // 2)
            number = self._next_segment_number() if wants_spare else None
        for segment in done:
            segment.close(remove=True)
        if number is not None:
            spare = acklog.open_segment(self._path, self._log_id, number)
            with self._lock:
                if self._closed:
                    spare.close(remove=True)
                else:
                    self._spare = spare

    def _write_checkpoint(self, upserts: list[ServerRecord], deletes: list[str], seq: int) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            start = 0
            for rows in _statement_sizes(len(upserts), self._rows_per_statement):
                values = [value for record in upserts[start:start + rows]
                          for value in _checkpoint_values(record)]
                conn.execute(_upsert_statement(rows), values)
                start += rows
            if deletes:
                conn.execute(_DELETE_MANY, (json.dumps(deletes),))
            conn.execute(_SET_CHECKPOINT, (seq,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- reads -------------------------------------------------------------------

    def get(self, server_id: str) -> ServerRecord | None:
        return self._records.get(server_id)

    def list_servers(self, query: ServerQuery, rule: StatusRule, now: int) -> ServerPage:
        # list() of a dict view runs without releasing the GIL: a consistent
        # snapshot while writers keep going.
        return select(list(self._records.values()), query, rule, now)

    def check(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")
        if not self._thread.is_alive():
            raise StorageError("checkpointer is not running")
        if self._persist_error is not None:
            raise StorageError(f"writing to disk is failing: {self._persist_error}")

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._thread.join()
        self._drop_replaced()
        checkpointed = False
        try:
            self._checkpoint()
        except Exception as exc:
            # The ack log stays on disk and is replayed at the next start.
            log.error("final checkpoint failed; the ack log will be replayed: %s", exc)
        else:
            checkpointed = True
        finally:
            for segment in [*self._retired, self._segment]:
                segment.close(remove=checkpointed)
            if self._spare is not None:
                self._spare.close(remove=True)
            # Closing the only connection checkpoints the WAL into the file.
            self._conn.close()
            self._lock_file.close()
