"""The acknowledgement log: what makes an answered write survive the process.

Before the receiver answers a write, the request thread copies the record it
just produced into the current log segment, a preallocated file mapped into
memory with ``MAP_SHARED``.  The pages of such a mapping *are* the kernel's
page cache of the file: once the copy is done, the bytes survive ``kill -9``,
an OOM kill or a crash of the receiver, exactly like bytes handed to
``write(2)``; a power failure or kernel crash only once the storage's next
sync (``Segment.sync``, a fraction of a second later) has written them.  A
memory copy, unlike ``write(2)``, does not release the GIL, so logging costs
a request no thread hand-off.

Entries are appended under the storage lock, in sequence order.  Each is
``{"seq": N, "row": [...]}`` or ``{"seq": N, "delete": "<server_id>"}``,
followed by one zero byte that is never written: a segment is preallocated
zeros, and the next entry starts one byte after the end of the last.  An
entry carries the *whole* record, so recovery keeps, per server, the entry
with the highest sequence number, and any subset of entries that reached
the disk is a consistent state.  An entry torn by a kill during the copy was
never acknowledged and is the last one; the copy may have stored its bytes
in any order (memcpy stores an unaligned head last), but JSON text never
holds a zero byte, so whatever pieces of it are there lie between zeros of
their own, never joined to the entry before, and do not parse as an entry;
recovery skips them.  The unused tail of a segment is zeros.

Receivers up to 1.1 started each entry with a newline instead, which a torn
entry's unstored head could join to the acknowledged entry before it; the
reader takes both separators, and so reads their segments too.

Segments are named ``<db>-acklog-<log id>-<n>``, the log id being a random
id stored in the database when it is created: segments left over from a
deleted database are never replayed into a new one.  A full segment is
replaced by a new one; the checkpointer deletes segments whose entries are
all in SQLite.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import msgspec

from receiver.records import Row, ServerRecord

log = logging.getLogger(__name__)

SEGMENT_BYTES = 32 * 1024 * 1024
# fdatasync writes the mapped pages too (they are the file's page cache); macOS has only fsync.
_fdatasync = getattr(os, "fdatasync", os.fsync)
_SEGMENT_NAME = re.compile(r"-acklog-([0-9a-f]+)-(\d{6,})$")


@dataclass(eq=False, slots=True)
class Segment:
    number: int
    path: str
    fd: int
    map: mmap.mmap
    capacity: int
    offset: int = 0
    # Highest sequence number written here; None while nothing is.
    max_seq: int | None = None

    def append(self, seq: int, data: bytes) -> bool:
        """Copy one entry in; False if it does not fit.  Caller holds the storage lock."""
        end = self.offset + len(data)
        if end >= self.capacity:  # the byte at ``end`` is the entry's zero separator
            return False
        self.map[self.offset : end] = data
        self.offset = end + 1
        self.max_seq = seq
        return True

    def sync(self) -> None:
        """Wait until what was copied in is on disk (the GIL is released meanwhile)."""
        _fdatasync(self.fd)

    def close(self, *, remove: bool) -> None:
        self.map.close()
        os.close(self.fd)
        if remove:
            remove_file(self.path)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    server_id: str
    row: ServerRecord | None  # None: the server was deleted


class _Line(msgspec.Struct, omit_defaults=True):
    """An entry as written: a record (``row``) or a deleted server_id."""

    seq: int
    row: Row | None = None
    delete: str | None = None


class _RowEntry(msgspec.Struct):
    """A record entry as ``encode_row_entry`` writes it: the same JSON as a
    ``_Line`` with a ``row``, from the record's first fields as a tuple
    (one C call, where building a ``Row`` takes a dozen Python steps)."""

    seq: int
    row: tuple


# ServerRecord's fields start with Row's, in Row's order (tests hold them to it).
_ROW_WIDTH = len(Row.__struct_fields__)
_astuple = msgspec.structs.astuple
_decode_line = msgspec.json.Decoder(_Line).decode
_encoder = msgspec.json.Encoder()
_encode_into, _encode_json = _encoder.encode_into, _encoder.encode


def new_entry_buffer() -> bytearray:
    """The buffer ``encode_row_entry`` reuses, one per writer."""
    return bytearray()


def encode_row_entry(seq: int, record: ServerRecord, buffer: bytearray) -> bytearray:
    """``{"seq":N,"row":[...]}`` in ``buffer``, overwriting the previous entry.

    Encoding into one buffer per writer spares a write a new bytes object
    of the record's size, and its copy.  At offset 0: given an offset inside
    the buffer, msgspec first shrinks the buffer to 1.5 times the offset and
    then grows it back in steps as it writes, a reallocation each (a sixth
    of the write's instructions, valgrind); from 0 it writes over the old
    entry, and a buffer once grown stays allocated.
    """
    _encode_into(_RowEntry(seq, _astuple(record)[:_ROW_WIDTH]), buffer)
    return buffer


def segment_paths(base: str, log_id: str) -> tuple[list[tuple[int, str]], list[str]]:
    """This database's segments by number, and segments of other log ids."""
    directory = os.path.dirname(os.path.abspath(base))
    prefix = os.path.basename(base)
    ours, foreign = [], []
    for name in os.listdir(directory):
        if not name.startswith(prefix):
            continue
        match = _SEGMENT_NAME.fullmatch(name[len(prefix) :])
        if not match:
            continue
        path = os.path.join(directory, name)
        if match.group(1) == log_id:
            ours.append((int(match.group(2)), path))
        else:
            foreign.append(path)
    return sorted(ours), sorted(foreign)


def open_segment(base: str, log_id: str, number: int, capacity: int | None = None) -> Segment:
    capacity = capacity or SEGMENT_BYTES
    path = f"{base}-acklog-{log_id}-{number:06d}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            # Reserve the blocks now: a mapped page that cannot be backed on a
            # full disk would kill the process (SIGBUS) instead of failing a write.
            os.posix_fallocate(fd, 0, capacity)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # no fallocate here
                raise
            os.ftruncate(fd, capacity)
        segment_map = mmap.mmap(fd, capacity, flags=mmap.MAP_SHARED,
                                prot=mmap.PROT_READ | mmap.PROT_WRITE)
    except BaseException:
        os.close(fd)
        remove_file(path)
        raise
    # The directory entry must outlive a crash for the segment to be found.
    _fsync_directory(path)
    return Segment(number=number, path=path, fd=fd, map=segment_map, capacity=capacity)


def encode_delete_entry(seq: int, server_id: str) -> bytes:
    """``{"seq":N,"delete":"<server_id>"}``."""
    return _encode_json(_Line(seq, delete=server_id))


def _parse(line: bytes) -> Entry | None:
    try:
        data = _decode_line(line)
        if data.row is not None:
            return Entry(data.seq, data.row.server_id, ServerRecord.from_row(data.row))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if data.delete is not None:
        return Entry(data.seq, data.delete, None)
    return None


def read_entries(paths: list[str]) -> Iterator[Entry]:
    """Every readable entry of the given segments; unreadable ones are skipped."""
    for path in paths:
        skipped = 0
        with open(path, "rb") as stream:
            content = stream.read()
        # Zero bytes separate entries, newlines did before 1.2; the unused
        # tail goes first, or it would split into a piece per byte.
        for line in content.rstrip(b"\x00").replace(b"\n", b"\x00").split(b"\x00"):
            if not line:
                continue
            entry = _parse(line)
            if entry is None:
                skipped += 1
            else:
                yield entry
        if skipped:
            # A torn entry is a copy that never finished, so it was never
            # acknowledged: nothing acknowledged is lost by skipping its pieces.
            log.warning("skipped %d unreadable entr%s in %s", skipped,
                        "y" if skipped == 1 else "ies", path)


def remove_file(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _fsync_directory(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
