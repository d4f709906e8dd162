"""Simulated time: one clock for every process of a run, frozen, moved only by the orchestrator.

The orchestrator owns a `SharedClock` (8 bytes in an mmap'd file of the run directory) and is the
only writer. Every simulated Odoo process runs under freezegun and calls `FrozenProcessClock.sync()`
before each unit of work (accepting a request, a cron run), so `time.time()`, `datetime.now()`, the
addon's `_server_start_time` and the cron's `nextcall` all read the same simulated instant in every
process, the addon's background threads included. Durations (`time.monotonic`, `perf_counter`)
stay real: see FrozenProcessClock.

`Real` keeps the real clock functions for measuring real durations inside frozen processes. They
are class attributes on purpose: freezegun replaces every *module-level* name that refers to a real
time function when it starts, but it does not look inside classes.
"""

from __future__ import annotations

import mmap
import os
import struct
import time as _time_module
from datetime import datetime, timezone

_FORMAT = "<d"
_SIZE = struct.calcsize(_FORMAT)


class Real:
    """The real (never frozen) clock, captured at import, before any freezing."""

    time = staticmethod(_time_module.time)
    monotonic = staticmethod(_time_module.monotonic)
    perf_counter = staticmethod(_time_module.perf_counter)


class SharedClock:
    """Simulated epoch seconds in a file every process of the run maps."""

    def __init__(self, path: str, *, create_at: float | None = None):
        self.path = path
        if create_at is not None:
            with open(path, "wb") as handle:
                handle.write(struct.pack(_FORMAT, float(create_at)))
        fd = os.open(path, os.O_RDWR if create_at is not None else os.O_RDONLY)
        try:
            access = mmap.ACCESS_WRITE if create_at is not None else mmap.ACCESS_READ
            self._map = mmap.mmap(fd, _SIZE, access=access)
        finally:
            os.close(fd)
        self.writable = create_at is not None

    def now(self) -> float:
        return struct.unpack_from(_FORMAT, self._map, 0)[0]

    def set(self, epoch: float) -> float:
        if not self.writable:
            raise PermissionError("only the orchestrator moves the simulated clock")
        current = self.now()
        if epoch < current:
            raise ValueError("simulated time only moves forward")
        struct.pack_into(_FORMAT, self._map, 0, float(epoch))
        return epoch

    def advance(self, seconds: float) -> float:
        return self.set(self.now() + seconds)

    def close(self) -> None:
        self._map.close()


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def iso(epoch: float) -> str:
    return to_datetime(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")


class FrozenProcessClock:
    """freezegun in a simulated Odoo process, following the shared clock.

    Two adjustments to freezegun's defaults, both about *which* clock a call gets:

    * Wall-clock time (time.time, datetime.now, ...) is simulated everywhere, in every thread.
      freezegun's stack inspection (its ignore list: threading, queue, ...) is narrowed to the
      direct caller: with its default depth of 5, a time.time() call made a few frames below
      threading.Thread.run (the addon's registration thread) would get the *real* time. With
      depth 1, code of those ignored modules still gets real time for its own timeouts.
    * Durations stay real: time.monotonic and time.perf_counter are not frozen. They measure how
      long network calls and lock waits really take, and the addon bounds its registration with a
      monotonic budget (10 s): a frozen monotonic clock would silently turn that budget off.
    """

    def __init__(self, shared: SharedClock):
        import freezegun
        import freezegun.api as api

        api.call_stack_inspection_limit = 1
        self.shared = shared
        self._current = shared.now()
        self._freezer = freezegun.freeze_time(to_datetime(self._current), tick=False)
        self._factory = self._freezer.start()
        real = {"monotonic": api.real_monotonic, "perf_counter": api.real_perf_counter,
                "monotonic_ns": getattr(api, "real_monotonic_ns", None),
                "perf_counter_ns": getattr(api, "real_perf_counter_ns", None)}
        for name, function in real.items():
            if function is not None:
                setattr(_time_module, name, function)
        originals = {id(f) for f in real.values() if f is not None}
        for module, attribute, original in getattr(self._freezer, "undo_changes", []):
            if id(original) in originals:
                setattr(module, attribute, original)

    def sync(self) -> float:
        """Move this process' frozen time to the shared clock; returns the simulated epoch."""
        target = self.shared.now()
        if target != self._current:
            self._factory.move_to(to_datetime(target))
            self._current = target
        return target
