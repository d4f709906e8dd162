"""JSON lines over a socket pair: the orchestrator <-> master <-> worker command channels.

Waits are bounded by the real clock (`Real`), never by time.monotonic(), which is frozen in the
simulated Odoo processes.
"""

from __future__ import annotations

import json
import select
import socket
from typing import Any

from .clock import Real


class ChannelClosed(EOFError):
    """The other end went away."""


class ChannelTimeout(TimeoutError):
    """No complete message within the time bound."""


class Channel:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._buffer = b""

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ChannelClosed(str(exc)) from exc

    def pending(self) -> bool:
        return b"\n" in self._buffer

    def _take(self) -> dict[str, Any] | None:
        line, sep, rest = self._buffer.partition(b"\n")
        if not sep:
            return None
        self._buffer = rest
        return json.loads(line)

    def recv(self, timeout: float | None) -> dict[str, Any]:
        """The next message; ChannelTimeout after `timeout` real seconds (None: wait forever)."""
        message = self._take()
        if message is not None:
            return message
        deadline = None if timeout is None else Real.monotonic() + timeout
        while True:
            wait = None if deadline is None else max(0.0, deadline - Real.monotonic())
            ready, _, _ = select.select([self.sock], [], [], wait)
            if not ready:
                raise ChannelTimeout(f"no answer within {timeout} s")
            try:
                chunk = self.sock.recv(65536)
            except OSError as exc:
                raise ChannelClosed(str(exc)) from exc
            if not chunk:
                raise ChannelClosed("the other end closed the channel")
            self._buffer += chunk
            message = self._take()
            if message is not None:
                return message

    def request(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        self.send(message)
        return self.recv(timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
