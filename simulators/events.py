"""The run's event log: JSON lines appended by every process, read by the orchestrator.

Each process opens the file with O_APPEND and writes each event with one write(): lines from
different processes never interleave and the file order is the order events happened in. An
event carries the real and the simulated time, the server, generation and role of its process.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from .clock import Real

_MAX_STRING = 4000


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return value if len(value) <= _MAX_STRING else value[:_MAX_STRING] + "..."
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return repr(value)


class EventWriter:
    """Appends events; `context` (server, gen, role) is added to each one."""

    def __init__(self, path: str, clock=None, **context: Any):
        self.path = path
        self.clock = clock  # a SharedClock (simulated time), or None
        self.context = dict(context)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()

    def emit(self, event_type: str, **fields: Any) -> dict:
        event = {"type": event_type, "real": round(Real.time(), 6)}
        if self.clock is not None:
            event["sim"] = self.clock.now()
        event.update(self.context)
        event["pid"] = os.getpid()
        event.update(fields)
        line = (json.dumps(_jsonable(event), ensure_ascii=False, sort_keys=False) + "\n").encode()
        with self._lock:
            os.write(self._fd, line)
        return event

    def close(self) -> None:
        os.close(self._fd)


class EventReader:
    """Reads the complete lines appended since the last call."""

    def __init__(self, path: str):
        self.path = path
        self._offset = 0
        self._events: list[dict] = []

    def poll(self) -> list[dict]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self._offset += end + 1
        new = []
        for line in data[: end + 1].splitlines():
            if line.strip():
                new.append(json.loads(line))
        self._events.extend(new)
        return new

    def all(self) -> list[dict]:
        self.poll()
        return list(self._events)
